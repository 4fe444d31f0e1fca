"""Which integrations are active, and what events say about them."""

from __future__ import annotations

import sys
from typing import Callable

import pytest

import tripwire
from tripwire.integrations import Integration, default_integrations
from tripwire.integrations.asyncio import AsyncioIntegration
from tripwire.integrations.logging import LoggingIntegration
from tripwire.testing import CapturingTransport

DEFAULTS = [
    "argv",
    "atexit",
    "dedupe",
    "excepthook",
    "logging",
    "modules",
    "stdlib",
    "threading",
]


def _integrations(transport: CapturingTransport) -> list[str]:
    sdk = transport.events[-1]["sdk"]
    assert isinstance(sdk, dict)
    return list(sdk["integrations"])


def test_default_integrations_listed(init_sdk: Callable[..., CapturingTransport]) -> None:
    """An event lists every default integration in sdk.integrations."""
    transport = init_sdk()
    tripwire.capture_message("hello")
    assert _integrations(transport) == DEFAULTS


def test_default_integrations_have_unique_identifiers() -> None:
    """default_integrations() returns one instance per identifier, the documented set."""
    identifiers = [i.identifier for i in default_integrations()]
    assert sorted(identifiers) == DEFAULTS


def test_disabled_integration_left_out(init_sdk: Callable[..., CapturingTransport]) -> None:
    """disabled_integrations removes an integration by identifier and by class."""
    transport = init_sdk(disabled_integrations=["stdlib", LoggingIntegration])
    tripwire.capture_message("hello")
    assert _integrations(transport) == [n for n in DEFAULTS if n not in ("stdlib", "logging")]


def test_opt_in_integration_added(init_sdk: Callable[..., CapturingTransport]) -> None:
    """An integration passed in integrations= joins the defaults; without defaults it stands alone."""
    transport = init_sdk(integrations=[AsyncioIntegration()])
    tripwire.capture_message("hello")
    assert _integrations(transport) == sorted([*DEFAULTS, "asyncio"])

    transport = init_sdk(integrations=[AsyncioIntegration()], default_integrations=False)
    tripwire.capture_message("hello")
    assert _integrations(transport) == ["asyncio"]


def test_failing_integration_skipped(
    init_sdk: Callable[..., CapturingTransport],
    caplog: pytest.LogCaptureFixture,
    expect_sdk_faults: None,
) -> None:
    """An integration whose setup raises is logged and left out; init() still works."""

    class Broken(Integration):
        identifier = "broken"

        def setup_once(self) -> None:
            raise RuntimeError("cannot hook")

    transport = init_sdk(integrations=[Broken()])
    tripwire.capture_message("hello")
    assert "broken" not in _integrations(transport)
    assert "failed to set up" in caplog.text


def test_dedupe_sends_an_exception_once(init_sdk: Callable[..., CapturingTransport]) -> None:
    """The same exception object captured twice is sent once."""
    transport = init_sdk()
    error = ValueError("once")
    assert tripwire.capture_exception(error) is not None
    assert tripwire.capture_exception(error) is None
    assert len(transport.events) == 1


def test_dedupe_can_be_disabled(init_sdk: Callable[..., CapturingTransport]) -> None:
    """With dedupe disabled, the same exception object is sent each time and dedupe is not listed."""
    transport = init_sdk(disabled_integrations=["dedupe"])
    error = ValueError("twice")
    tripwire.capture_exception(error)
    tripwire.capture_exception(error)
    assert len(transport.events) == 2
    assert "dedupe" not in _integrations(transport)


def test_argv_in_extra(init_sdk: Callable[..., CapturingTransport]) -> None:
    """Every event carries a copy of sys.argv in extra['sys.argv']."""
    transport = init_sdk()
    tripwire.capture_message("hello")
    extra = transport.events[0]["extra"]
    assert extra["sys.argv"] == sys.argv
    assert extra["sys.argv"] is not sys.argv


def test_argv_absent_when_disabled(init_sdk: Callable[..., CapturingTransport]) -> None:
    """Disabling argv removes sys.argv from extra even though its processor stays installed."""
    init_sdk()  # installs the processor
    transport = init_sdk(disabled_integrations=["argv"])
    tripwire.capture_message("hello")
    assert "sys.argv" not in transport.events[0].get("extra", {})


def test_modules_on_the_wire(init_sdk: Callable[..., CapturingTransport]) -> None:
    """Events leave with the installed packages in modules; disabling modules removes them."""
    transport = init_sdk()
    tripwire.capture_message("hello")
    [wire] = transport.wire_events()
    modules = wire["modules"]
    assert isinstance(modules, dict)
    assert "pytest" in modules

    transport = init_sdk(disabled_integrations=["modules"])
    tripwire.capture_message("hello")
    [wire] = transport.wire_events()
    assert "modules" not in wire
    assert "modules" not in _integrations(transport)
