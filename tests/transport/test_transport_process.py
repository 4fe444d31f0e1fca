"""Whole-process behaviour in subprocesses: exit within shutdown_timeout, fork, late captures."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tripwire._envelope import Envelope

PRELUDE = """
import logging, os, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
from tripwire._options import build_options
from tripwire._transport import make_transport
def make(**options):
    return make_transport(build_options(dsn=sys.argv[1], environ={}, **options))
"""


def run(
    script: str, dsn: str, timeout: float = 30.0
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``script`` in a fresh interpreter; return the result and its wall time."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script), dsn],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={
            **os.environ,
            "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..", "..", "src"),
        },
    )
    return result, time.monotonic() - started


def received_ids(httpserver: HTTPServer) -> list[str]:
    ids = []
    for request, _ in httpserver.log:
        envelope = Envelope.parse(gzip.decompress(request.get_data()))
        if envelope.event_id:
            ids.append(envelope.event_id)
    return ids


EXIT_SCRIPT = """
t = make(shutdown_timeout=1.0, read_timeout=60.0, connect_timeout=60.0)
for i in range(5):
    t.capture_event({"event_id": "%032x" % i, "message": "m"})
"""


def test_exit_within_shutdown_timeout_against_silent_server(raw_server: Any) -> None:
    """A process whose server accepts and never answers still exits within shutdown_timeout."""
    server = raw_server("hang")
    result, elapsed = run(EXIT_SCRIPT, f"http://k@127.0.0.1:{server.port}/1")
    assert result.returncode == 0, result.stderr
    # 1 s of shutdown_timeout plus interpreter start-up; the read timeout is 60 s.
    assert elapsed < 8.0
    assert "not sent within shutdown_timeout" in result.stderr
    assert len(server.requests) == 1


def test_exit_against_dead_server(dead_port: int) -> None:
    """A process whose server refuses connections exits promptly, having tried every event."""
    result, elapsed = run(EXIT_SCRIPT, f"http://k@127.0.0.1:{dead_port}/1")
    assert result.returncode == 0, result.stderr
    assert elapsed < 8.0
    assert "Connection refused" in result.stderr or "NewConnectionError" in result.stderr


def test_pending_events_are_sent_at_exit(httpserver: HTTPServer) -> None:
    """Events still queued when the script ends are delivered by the exit hook without a flush."""
    httpserver.expect_request("/api/1/envelope/").respond_with_json({})
    script = """
    t = make()
    for i in range(30):
        t.capture_event({"event_id": "%032x" % i, "message": "m"})
    """
    result, _ = run(script, f"http://k@127.0.0.1:{httpserver.port}/1")
    assert result.returncode == 0, result.stderr
    assert sorted(received_ids(httpserver)) == [f"{i:032x}" for i in range(30)]


def test_event_captured_during_exit_is_sent(httpserver: HTTPServer) -> None:
    """An event captured by an atexit handler before the worker ever ran still goes out.

    On Python 3.12+ no thread can start then, so the exit hook sends it inline.
    """
    httpserver.expect_request("/api/1/envelope/").respond_with_json({})
    script = """
    import atexit
    t = make()
    atexit.register(lambda: t.capture_event({"event_id": "d" * 32, "message": "late"}))
    """
    result, _ = run(script, f"http://k@127.0.0.1:{httpserver.port}/1")
    assert result.returncode == 0, result.stderr
    assert received_ids(httpserver) == ["d" * 32]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_sends_its_own_and_nothing_twice(httpserver: HTTPServer) -> None:
    """After fork the child sends only its own events and the parent's queue is sent once."""
    lock = threading.Lock()

    def slow(request: Request) -> Response:
        with lock:
            time.sleep(0.02)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/1/envelope/").respond_with_handler(slow)
    script = """
    t = make()
    for i in range(10):
        t.capture_event({"event_id": "%032x" % i, "message": "parent"})
    pid = os.fork()
    if pid == 0:
        t.capture_event({"event_id": "c" * 32, "message": "child"})
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    result = t.flush(20.0)
    print("child-status", status, "parent-sent", result.sent, "pending", result.pending)
    """
    result, _ = run(script, f"http://k@127.0.0.1:{httpserver.port}/1")
    assert result.returncode == 0, result.stderr
    assert "child-status 0" in result.stdout
    ids = received_ids(httpserver)
    assert sorted(ids) == sorted([f"{i:032x}" for i in range(10)] + ["c" * 32])


def test_event_captured_after_the_exit_hook_is_sent(httpserver: HTTPServer) -> None:
    """An atexit handler that runs after tripwire's exit hook still gets its event delivered."""
    httpserver.expect_request("/api/1/envelope/").respond_with_json({})
    script = """
    import atexit
    holder = []
    # Registered before the transport exists, so it runs after the transport's exit hook.
    atexit.register(lambda: holder[0].capture_event({"event_id": "e" * 32, "message": "later"}))
    holder.append(make())
    holder[0].capture_event({"event_id": "f" * 32, "message": "first"})
    """
    result, _ = run(script, f"http://k@127.0.0.1:{httpserver.port}/1")
    assert result.returncode == 0, result.stderr
    assert sorted(received_ids(httpserver)) == ["e" * 32, "f" * 32]
