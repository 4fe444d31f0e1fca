"""Process-wide hooks, run for real in subprocesses against a loopback server:
sys.excepthook, threading.excepthook, and the report at exit."""

from __future__ import annotations

import subprocess
import time
from typing import Any, Callable

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
Received = Callable[[HTTPServer], "list[dict[str, Any]]"]


def _exception(event: dict[str, Any]) -> dict[str, Any]:
    return event["exception"]["values"][-1]  # type: ignore[no-any-return]


UNCAUGHT = """
import tripwire
tripwire.init(DSN)
tripwire.set_tag("stage", "boot")
def main():
    raise LookupError("no such widget")
main()
"""


def test_uncaught_exception_captured_and_still_printed(
    sentry_server: tuple[HTTPServer, str], run_script: Runner, received_events: Received
) -> None:
    """An uncaught exception reaches the server (excepthook, unhandled), prints, and exits 1."""
    server, dsn = sentry_server
    result = run_script(UNCAUGHT, dsn)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "LookupError: no such widget" in result.stderr
    [event] = received_events(server)
    value = _exception(event)
    assert value["type"] == "LookupError"
    assert (value["mechanism"]["type"], value["mechanism"]["handled"]) == ("excepthook", False)
    assert event["level"] == "error"
    assert event["tags"] == {"stage": "boot"}
    assert "excepthook" in event["sdk"]["integrations"]


LOGGED_THEN_UNCAUGHT = """
import logging, tripwire
tripwire.init(DSN)
try:
    raise ValueError("seen twice")
except ValueError:
    logging.getLogger("app").exception("about to give up")
    raise
"""


def test_logged_then_uncaught_sent_once(
    sentry_server: tuple[HTTPServer, str], run_script: Runner, received_events: Received
) -> None:
    """An exception logged and then left uncaught is sent once, from the logging integration."""
    server, dsn = sentry_server
    result = run_script(LOGGED_THEN_UNCAUGHT, dsn)
    assert result.returncode == 1
    assert "ValueError: seen twice" in result.stderr
    [event] = received_events(server)
    assert _exception(event)["mechanism"]["type"] == "logging"


SYSTEM_EXIT = """
import sys, tripwire
tripwire.init(DSN)
sys.exit(3)
"""


def test_system_exit_not_captured(
    sentry_server: tuple[HTTPServer, str], run_script: Runner, received_events: Received
) -> None:
    """sys.exit() keeps its status and sends nothing."""
    server, dsn = sentry_server
    result = run_script(SYSTEM_EXIT, dsn)
    assert result.returncode == 3
    assert received_events(server) == []


THREAD_CRASH = """
import threading, tripwire
tripwire.init(DSN)
tripwire.set_tag("from", "main")
def work():
    tripwire.set_tag("worker", "yes")
    raise OSError("disk vanished")
thread = threading.Thread(target=work, name="crasher")
thread.start()
thread.join()
tripwire.capture_message("main still clean")
print("main carried on")
"""


def test_thread_exception_captured(
    sentry_server: tuple[HTTPServer, str], run_script: Runner, received_events: Received
) -> None:
    """An exception ending a thread is sent (threading, unhandled) with the thread's own scope."""
    server, dsn = sentry_server
    result = run_script(THREAD_CRASH, dsn)
    assert result.returncode == 0, result.stderr
    assert "main carried on" in result.stdout
    assert "Exception in thread crasher" in result.stderr
    assert "OSError: disk vanished" in result.stderr
    crash, message = received_events(server)
    mechanism = _exception(crash)["mechanism"]
    assert (mechanism["type"], mechanism["handled"]) == ("threading", False)
    assert crash["tags"] == {"from": "main", "worker": "yes"}
    assert message["tags"] == {"from": "main"}


def test_pending_events_reported_at_exit_with_debug(
    httpserver: HTTPServer, run_script: Runner, received_events: Received
) -> None:
    """With debug, a process exiting with queued events says how many on stderr, then sends them."""

    def slow(request: Request) -> Response:
        time.sleep(0.3)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/1/envelope/", method="POST").respond_with_handler(slow)
    script = """
    import tripwire
    tripwire.init(DSN, debug=True, shutdown_timeout=10.0)
    for i in range(3):
        tripwire.capture_message(f"message {i}")
    """
    started = time.monotonic()
    result = run_script(script, f"http://key@127.0.0.1:{httpserver.port}/1")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "event(s) pending at exit" in result.stderr
    assert len(received_events(httpserver)) == 3
    assert elapsed < 10.0


def test_quiet_exit_without_debug(
    sentry_server: tuple[HTTPServer, str], run_script: Runner, received_events: Received
) -> None:
    """Without debug nothing is printed at exit, and queued events are still sent."""
    server, dsn = sentry_server
    script = """
    import tripwire
    tripwire.init(DSN)
    for i in range(3):
        tripwire.capture_message(f"message {i}")
    """
    result = run_script(script, dsn)
    assert result.returncode == 0
    assert result.stderr == ""
    assert len(received_events(server)) == 3
