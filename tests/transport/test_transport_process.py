"""Whole-process behaviour in subprocesses: exit within shutdown_timeout, fork, late captures."""

from __future__ import annotations

import gzip
import os
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest
import trustme
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
    script: str, dsn: str, *args: str, timeout: float = 30.0, path: str = ""
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``script`` in a fresh interpreter; return the result and its wall time.

    ``args`` follow the DSN in ``sys.argv``; ``path`` is added to ``PYTHONPATH``.
    """
    started = time.monotonic()
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script), dsn, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (src, path) if p)},
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


SLOW_IMPORT = """
import sys, time
sys.modules["__main__"].importing.set()
time.sleep(0.5)
complete = True
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_the_worker_is_importing(httpserver: HTTPServer, tmp_path: Any) -> None:
    """A fork waits for the parent's worker to finish an import, so the child's worker can use it.

    A child forked mid-import inherits the module half-run and its import lock
    held by a thread it does not have: its worker hung on the import (the lazily
    imported finalizer in real life, a slow module imported by after_send here),
    or, given the dead thread's id, went on with the half-run module.
    """
    httpserver.expect_request("/api/1/envelope/").respond_with_json({})
    (tmp_path / "tripwire_slow_import.py").write_text(SLOW_IMPORT)
    script = """
    import threading
    importing = threading.Event()
    def after_send(result):
        import tripwire_slow_import  # noqa: F401
    t = make(after_send=after_send, shutdown_timeout=1.0)
    t.capture_event({"event_id": "a" * 32, "message": "parent"})
    if not importing.wait(10.0):
        sys.exit("the worker never started the import")
    pid = os.fork()
    if pid == 0:
        module = sys.modules["tripwire_slow_import"]
        print("child-module-complete", getattr(module, "complete", False), flush=True)
        t.capture_event({"event_id": "c" * 32, "message": "child"})
        print("child-pending", t.flush(3.0).pending, flush=True)
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    print("child-status", status, "parent-pending", t.flush(5.0).pending)
    """
    result, _ = run(script, f"http://k@127.0.0.1:{httpserver.port}/1", path=str(tmp_path))
    assert result.returncode == 0, result.stderr
    # Forked mid-import, the child would hold a half-run module whose lock no thread releases.
    assert "child-module-complete True" in result.stdout, result.stderr
    assert "child-pending 0" in result.stdout, result.stderr
    assert "child-status 0 parent-pending 0" in result.stdout, result.stderr
    assert sorted(received_ids(httpserver)) == ["a" * 32, "c" * 32]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_the_parent_waits_on_the_server(tmp_path: Any) -> None:
    """A fork does not wait for the parent's request in flight; the child sends on its own connection.

    The server holds the parent's request until the child's arrives (3 s at most,
    less than FORK_WAIT), so a fork that waited for the request would fail it.
    """
    marker = tmp_path / "parent-request-arrived"
    child_seen = threading.Event()
    parent_saw_child: list[bool] = []

    def handler(request: Request) -> Response:
        envelope = Envelope.parse(gzip.decompress(request.get_data()))
        if envelope.event_id == "c" * 32:
            child_seen.set()
        else:
            marker.write_text("x")
            parent_saw_child.append(child_seen.wait(3.0))
        return Response("{}", content_type="application/json")

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request("/api/1/envelope/").respond_with_handler(handler)
    server.start()
    try:
        script = """
        import time
        marker = sys.argv[2]
        t = make()
        t.capture_event({"event_id": "a" * 32, "message": "parent"})
        deadline = time.monotonic() + 10.0
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.005)
        pid = os.fork()
        if pid == 0:
            t.capture_event({"event_id": "c" * 32, "message": "child"})
            print("child-pending", t.flush(5.0).pending, flush=True)
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        print("child-status", status, "parent-pending", t.flush(10.0).pending)
        """
        result, _ = run(script, f"http://k@127.0.0.1:{server.port}/1", str(marker))
        ids = received_ids(server)
    finally:
        server.clear()
        server.stop()
    assert result.returncode == 0, result.stderr
    assert "child-pending 0" in result.stdout, result.stderr
    assert "child-status 0 parent-pending 0" in result.stdout, result.stderr
    assert sorted(ids) == ["a" * 32, "c" * 32]
    assert parent_saw_child == [True]


def test_worker_imports_only_inside_the_fork_gate(httpserver: HTTPServer, tmp_path: Any) -> None:
    """Every module the worker imports (finalizer, urllib3, TLS, the idna codec) is imported
    inside the fork gate, so a fork never lands in the middle of it.
    """
    httpserver.expect_request("/api/1/envelope/").respond_with_json({})
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    tls = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    tls.expect_request("/api/1/envelope/").respond_with_json({})
    tls.start()
    try:
        script = """
        import threading
        from tripwire._worker import fork_gate
        outside = []
        def audit(event, args):
            if event == "import" and threading.current_thread().name == "tripwire-worker":
                if not fork_gate._depth():
                    outside.append(args[0])
        sys.addaudithook(audit)
        plain = make()
        tls = make_transport(build_options(dsn=sys.argv[2], ca_certs=sys.argv[3], environ={}))
        for t in (plain, tls):
            try:
                raise ValueError("boom")
            except ValueError:
                t.capture_event({"event_id": "b" * 32, "exception": {"values": [{"type": "ValueError"}]}})
            print("sent", t.flush(10.0).sent)
        print("outside", outside)
        """
        result, _ = run(
            script,
            f"http://k@127.0.0.1:{httpserver.port}/1",
            f"https://k@localhost:{tls.port}/1",
            str(ca_path),
        )
    finally:
        tls.clear()
        tls.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("sent 1") == 2, result.stdout + result.stderr
    assert "outside []" in result.stdout, result.stdout


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
