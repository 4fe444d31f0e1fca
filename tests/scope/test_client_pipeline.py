"""The client pipeline: ignore_errors, sampling, hooks, dedupe, attach_stacktrace, debug."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import tripwire
from tripwire.testing import CapturingTransport


class PaymentDeclined(Exception):
    pass


def start(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    tripwire.init(transport=transport, **options)
    return transport


def raise_and_capture(exc: BaseException) -> str | None:
    try:
        raise exc
    except BaseException:
        return tripwire.capture_exception()


@pytest.mark.parametrize(
    "rule",
    [
        PaymentDeclined,
        Exception,
        "PaymentDeclined",
        f"{__name__}.PaymentDeclined",
        f"{__name__.split('.')[0]}.*",
    ],
)
def test_ignore_errors_by_type_name_or_pattern(rule: object) -> None:
    """ignore_errors matches exception types (and subclasses), names and pkg.* patterns."""
    transport = start(ignore_errors=[rule])
    assert raise_and_capture(PaymentDeclined("no")) is None
    assert transport.events == []


def test_ignore_errors_leaves_other_exceptions_alone() -> None:
    """An exception not named in ignore_errors is sent."""
    transport = start(ignore_errors=[KeyError, "ValueError"])
    assert raise_and_capture(PaymentDeclined("no")) is not None
    assert len(transport.events) == 1


def test_sample_rate_zero_drops_before_any_work_and_counts_it() -> None:
    """sample_rate=0 sends nothing, builds no stack trace and records a sample_rate drop."""
    transport = start(sample_rate=0.0)
    calls: list[object] = []
    tripwire.get_current_scope().add_event_processor(lambda e, h: calls.append(e) or e)
    assert raise_and_capture(PaymentDeclined("no")) is None
    assert tripwire.capture_message("m") is None
    assert calls == []
    assert transport.lost == [("sample_rate", "error", 1), ("sample_rate", "default", 1)]


def test_before_send_drops_and_is_counted() -> None:
    """before_send returning None drops the event, returns None and counts before_send."""
    transport = start(before_send=lambda event, hint: None)
    assert tripwire.capture_message("m") is None
    assert transport.events == []
    assert transport.lost == [("before_send", "default", 1)]


def test_before_send_sees_context_lines_scrubbed_data_and_the_hint() -> None:
    """before_send gets the event with context lines, secrets scrubbed, and exc_info in the hint."""
    seen: dict[str, Any] = {}

    def hook(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        seen["event"], seen["hint"] = event, hint
        event["tags"] = {"from": "hook"}
        return event

    transport = start(before_send=hook)
    db_password = "hunter2"  # noqa: F841 - read from the frame's locals
    raise_and_capture(PaymentDeclined("no"))
    frames = seen["event"]["exception"]["values"][-1]["stacktrace"]["frames"]
    assert any(f.get("context_line") for f in frames)
    assert isinstance(seen["hint"]["exc_info"][1], PaymentDeclined)
    assert transport.events[0]["tags"] == {"from": "hook"}


def test_before_send_that_raises_sends_the_event_unchanged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A before_send that raises is logged and the event is sent as it was."""

    def hook(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("broken hook")

    transport = start(before_send=hook)
    assert tripwire.capture_message("still sent") is not None
    assert transport.events[0]["logentry"]["formatted"] == "still sent"
    assert any("before_send raised" in r.getMessage() for r in caplog.records)


def test_the_same_exception_object_is_sent_once() -> None:
    """Capturing one exception object twice sends it once (dedupe)."""
    transport = start()
    error = PaymentDeclined("once")
    assert raise_and_capture(error) is not None
    assert tripwire.capture_exception(error) is None
    assert len(transport.events) == 1


def test_dedupe_can_be_disabled() -> None:
    """disabled_integrations=["dedupe"] sends the same exception object again."""
    transport = start(disabled_integrations=["dedupe"])
    error = PaymentDeclined("twice")
    raise_and_capture(error)
    tripwire.capture_exception(error)
    assert len(transport.events) == 2


def test_capture_keeps_no_frame_or_local_alive() -> None:
    """After a capture nothing the SDK holds refers to the frames' local objects.

    Run in a fresh interpreter: pytest's own reporting machinery may hold
    tracebacks of the test process, which would hide what the SDK does.
    """
    code = (
        "import gc, weakref, tripwire\n"
        "from tripwire.testing import CapturingTransport\n"
        "transport = CapturingTransport()\n"
        "tripwire.init(transport=transport)\n"
        "class Payload: pass\n"
        "refs = []\n"
        "def fail():\n"
        "    local = Payload()\n"
        "    refs.append(weakref.ref(local))\n"
        "    raise ValueError('x')\n"
        "try:\n"
        "    fail()\n"
        "except ValueError:\n"
        "    tripwire.capture_exception()\n"
        "gc.collect()\n"
        "print(len(transport.events), refs[0]() is None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["1", "True"], out.stderr


def test_attach_stacktrace_adds_the_current_thread_to_messages() -> None:
    """attach_stacktrace=True puts the calling thread's stack in the threads interface."""
    transport = start(attach_stacktrace=True)
    tripwire.capture_message("with stack")
    (thread,) = transport.events[0]["threads"]["values"]
    assert thread["current"] is True
    functions = [f["function"] for f in thread["stacktrace"]["frames"]]
    assert any("test_attach_stacktrace" in (name or "") for name in functions)
    assert not any(
        "tripwire" in (f.get("module") or "") for f in thread["stacktrace"]["frames"][-1:]
    )


def test_debug_prints_the_sdk_log_on_stderr_and_silence_is_the_default() -> None:
    """debug=True routes the tripwire logger to stderr; without it nothing is printed."""
    code = (
        "import tripwire\n"
        "tripwire.init(dsn='http://k@127.0.0.1:9/1', debug={debug}, shutdown_timeout=0.3)\n"
        "tripwire.capture_message('x')\n"
        "tripwire.flush(1)\n"
    )
    loud = subprocess.run(
        [sys.executable, "-c", code.format(debug=True)], capture_output=True, text=True, timeout=60
    )
    quiet = subprocess.run(
        [sys.executable, "-c", code.format(debug=False)], capture_output=True, text=True, timeout=60
    )
    assert "[tripwire]" in loud.stderr
    assert quiet.stderr == ""
    assert loud.returncode == quiet.returncode == 0
