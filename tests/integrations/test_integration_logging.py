"""The logging integration: records become breadcrumbs and events."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Callable

import pytest

import tripwire
from tripwire.integrations.logging import LoggingIntegration, ignore_logger, unignore_logger
from tripwire.testing import CapturingTransport


@pytest.fixture
def log() -> Iterator[logging.Logger]:
    """A logger that lets DEBUG through and prints nothing."""
    logger = logging.getLogger("tests.app")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def _crumbs(transport: CapturingTransport) -> list[dict[str, object]]:
    tripwire.capture_message("probe")
    return [
        c
        for c in transport.events[-1].get("breadcrumbs", {}).get("values", [])
        if c.get("type") == "log"
    ]


def test_info_record_becomes_breadcrumb(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """An INFO record is a breadcrumb with the logger as category, mapped level and message."""
    transport = init_sdk()
    log.info("user %s logged in", "ada", extra={"request_id": 7})
    log.warning("disk at %d%%", 91)
    crumbs = _crumbs(transport)
    assert [(c["category"], c["level"], c["message"]) for c in crumbs] == [
        ("tests.app", "info", "user ada logged in"),
        ("tests.app", "warning", "disk at 91%"),
    ]
    assert crumbs[0]["data"] == {"request_id": 7}
    assert isinstance(crumbs[0]["timestamp"], float)


def test_debug_record_ignored(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """A record below the breadcrumb level leaves nothing."""
    transport = init_sdk()
    log.debug("noise")
    assert _crumbs(transport) == []


def test_error_record_becomes_event(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """An ERROR record is an event with logentry template, params, formatted text and logger."""
    transport = init_sdk()
    log.error("payment %s failed after %d tries", "p-1", 3, extra={"shop": "north"})
    [event] = transport.events
    assert event["level"] == "error"
    assert event["logger"] == "tests.app"
    assert event["logentry"] == {
        "message": "payment %s failed after %d tries",
        "params": ["p-1", 3],
        "formatted": "payment p-1 failed after 3 tries",
    }
    assert event["extra"]["shop"] == "north"
    assert "exception" not in event


def test_critical_record_is_fatal(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """A CRITICAL record's event has level fatal."""
    transport = init_sdk()
    log.critical("down")
    assert transport.events[0]["level"] == "fatal"


def test_logged_exception_has_logging_mechanism(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """logger.exception() sends the exception with mechanism logging, handled true."""
    transport = init_sdk()
    try:
        {}["missing"]
    except KeyError:
        log.exception("lookup failed")
    [event] = transport.events
    value = event["exception"]["values"][-1]
    assert value["type"] == "KeyError"
    assert value["mechanism"]["type"] == "logging"
    assert value["mechanism"]["handled"] is True
    assert event["logentry"]["formatted"] == "lookup failed"


def test_error_record_breadcrumb_follows_its_event(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """An ERROR record's own breadcrumb is not in its event but is in the next one."""
    transport = init_sdk()
    log.error("first")
    assert all(
        c.get("message") != "first"
        for c in transport.events[0].get("breadcrumbs", {}).get("values", [])
    )
    assert [c["message"] for c in _crumbs(transport)] == ["first"]


def test_levels_configurable(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """LoggingIntegration(level=WARNING, event_level=CRITICAL) moves both thresholds."""
    transport = init_sdk(
        integrations=[LoggingIntegration(level=logging.WARNING, event_level=logging.CRITICAL)]
    )
    log.info("skipped")
    log.warning("kept")
    log.error("only a crumb")
    assert transport.events == []
    assert [c["message"] for c in _crumbs(transport)] == ["kept", "only a crumb"]


def test_event_level_none_disables_events(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """event_level=None turns records into breadcrumbs only."""
    transport = init_sdk(integrations=[LoggingIntegration(event_level=None)])
    log.critical("still just a crumb")
    assert transport.events == []
    assert [c["message"] for c in _crumbs(transport)] == ["still just a crumb"]


def test_ignore_logger(init_sdk: Callable[..., CapturingTransport], log: logging.Logger) -> None:
    """ignore_logger() silences a logger by name or glob; unignore_logger() undoes it."""
    transport = init_sdk()
    other = logging.getLogger("tests.noisy.sub")
    other.propagate = False
    try:
        ignore_logger("tests.app")
        ignore_logger("tests.noisy.*")
        log.error("ignored")
        other.error("ignored too")
        assert transport.events == []
        unignore_logger("tests.app")
        log.error("heard")
        assert [e["logentry"]["formatted"] for e in transport.events] == ["heard"]
    finally:
        unignore_logger("tests.app")
        unignore_logger("tests.noisy.*")
        other.propagate = True


def test_tripwire_logger_never_feeds_back(
    init_sdk: Callable[..., CapturingTransport], expect_sdk_faults: None
) -> None:
    """Records of the tripwire logger and its children become neither events nor breadcrumbs."""
    transport = init_sdk()
    logging.getLogger("tripwire").error("internal")
    logging.getLogger("tripwire.transport").error("internal too")
    assert transport.events == []
    tripwire.capture_message("probe")
    assert "breadcrumbs" not in transport.events[0]


def test_disabled_logging_integration_is_inert(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """After an init() that disables logging, the installed hook sends nothing."""
    init_sdk()
    transport = init_sdk(disabled_integrations=["logging"])
    log.error("not sent")
    assert transport.events == []


def test_logging_inside_before_send_does_not_recurse(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """A before_send hook that logs an error does not recurse into another event."""
    seen: list[str] = []

    def before_send(event: dict[str, object], hint: dict[str, object]) -> dict[str, object]:
        seen.append("called")
        logging.getLogger("tests.hook").error("logged from before_send")
        return event

    transport = init_sdk(before_send=before_send)
    log.error("outer")
    assert seen == ["called"]
    assert [e["logentry"]["formatted"] for e in transport.events] == ["outer"]


def test_logged_then_captured_exception_sent_once(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """An exception logged with logger.exception and then captured again is sent once."""
    transport = init_sdk()
    try:
        raise RuntimeError("twice?")
    except RuntimeError as error:
        log.exception("failed")
        assert tripwire.capture_exception(error) is None
    assert len(transport.events) == 1


def test_stack_info_attaches_thread_stack(
    init_sdk: Callable[..., CapturingTransport], log: logging.Logger
) -> None:
    """stack_info=True adds the caller's stack, starting at the caller, not in logging."""
    transport = init_sdk()
    log.error("where am I", stack_info=True)
    frames = transport.events[0]["threads"]["values"][0]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "test_stack_info_attaches_thread_stack"
