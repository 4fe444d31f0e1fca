"""tripwire's automatic capture (sys.excepthook, logging) against a real Bugsink, one process per scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from bugsink_server import BugsinkServer
from e2e_scenarios import (
    exceptions_of,
    frames_of,
    run_script,
    stored_events,
    succeeded,
    unique_release,
)

pytestmark = pytest.mark.e2e


def test_uncaught_exception_through_excepthook(bugsink: BugsinkServer, tmp_path: Path) -> None:
    """An uncaught exception is stored, and the process still prints its traceback and exits 1."""
    release = unique_release("uncaught")
    result = run_script(
        tmp_path,
        bugsink,
        release,
        """
        tripwire.init(DSN, release=RELEASE)

        def divide(total, parts):
            return total / parts

        divide(10, 0)
        """,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "ZeroDivisionError: division by zero" in result.stderr
    [event] = stored_events(bugsink, release, result)
    [exception] = exceptions_of(event)
    assert exception["type"] == "ZeroDivisionError"
    assert frames_of(exception)[-1]["function"] == "divide"
    mechanism = exception.get("mechanism")
    assert isinstance(mechanism, dict)
    assert mechanism.get("handled") is False
    assert event["level"] in ("error", "fatal")


def test_error_log_with_exc_info(bugsink: BugsinkServer, tmp_path: Path) -> None:
    """logging.error(..., exc_info=True) is stored with the exception, the logger and the message."""
    release = unique_release("logging")
    result = run_script(
        tmp_path,
        bugsink,
        release,
        """
        import logging
        tripwire.init(DSN, release=RELEASE)
        log = logging.getLogger("e2e.parser")

        def parse(text):
            return int(text)

        try:
            parse("forty-two")
        except ValueError:
            log.error("could not parse %r", "forty-two", exc_info=True)
        print("flush:", tripwire.flush(10.0))
        """,
    )
    succeeded(result)
    [event] = stored_events(bugsink, release, result)
    [exception] = exceptions_of(event)
    assert exception["type"] == "ValueError"
    assert frames_of(exception)[-1]["function"] == "parse"
    assert event["logger"] == "e2e.parser"
    assert event["level"] == "error"
    logentry = event.get("logentry")
    assert isinstance(logentry, dict)
    assert "could not parse" in str(logentry.get("formatted") or logentry.get("message"))
