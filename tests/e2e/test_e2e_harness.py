"""The Bugsink harness itself, proven with hand-made requests before any SDK code is involved."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path

import pytest
from bugsink_server import MINIDUMP_FIXTURES, BugsinkServer, find_python, post

pytestmark = pytest.mark.e2e


def _auth(server: BugsinkServer) -> str:
    return f"Sentry sentry_version=7, sentry_key={server.sentry_key}, sentry_client=raw-e2e/1.0"


def _event(release: str, **fields: object) -> dict[str, object]:
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python",
        "level": "error",
        "release": release,
        "environment": "e2e",
        **fields,
    }


def _api(server: BugsinkServer, endpoint: str) -> str:
    return f"{server.url}/api/{server.project_id}/{endpoint}/"


def test_dsn_points_at_the_local_server(bugsink: BugsinkServer) -> None:
    """The provisioned DSN names the server's loopback address, port, project and key."""
    assert bugsink.dsn == (
        f"http://{bugsink.sentry_key}@127.0.0.1:{bugsink.port}/{bugsink.project_id}"
    )


def test_store_endpoint_event_is_stored_with_tags(bugsink: BugsinkServer) -> None:
    """A JSON event POSTed to /store/ is stored under its own id with its tags indexed."""
    release = f"harness-store-{uuid.uuid4().hex[:8]}"
    event = _event(release, message="hello from store", tags={"flavour": "store"})
    status, body = post(
        _api(bugsink, "store"),
        json.dumps(event).encode(),
        {"Content-Type": "application/json", "X-Sentry-Auth": _auth(bugsink)},
    )
    assert status == 200, body
    assert json.loads(body)["id"] == event["event_id"]
    [stored] = bugsink.wait_for_events(1, release=release)
    assert stored["event_id"] == event["event_id"]
    assert bugsink.event_tags(str(event["event_id"]))["flavour"] == "store"
    [issue] = bugsink.issues(release=release)
    assert issue.title == "Log Message: hello from store"


def test_envelope_event_is_stored_with_its_exception(bugsink: BugsinkServer) -> None:
    """An event item in an envelope is stored, and its exception titles the issue."""
    release = f"harness-envelope-{uuid.uuid4().hex[:8]}"
    event = _event(
        release,
        exception={
            "values": [
                {
                    "type": "ValueError",
                    "value": "harness boom",
                    "stacktrace": {
                        "frames": [{"function": "explode", "filename": "app.py", "lineno": 3}]
                    },
                }
            ]
        },
    )
    payload = json.dumps(event).encode()
    envelope = b"\n".join(
        [
            json.dumps({"event_id": event["event_id"], "dsn": bugsink.dsn}).encode(),
            json.dumps({"type": "event", "length": len(payload)}).encode(),
            payload,
        ]
    )
    status, body = post(
        _api(bugsink, "envelope"),
        envelope,
        {"Content-Type": "application/x-sentry-envelope", "X-Sentry-Auth": _auth(bugsink)},
    )
    assert status == 200, body
    [stored] = bugsink.wait_for_events(1, release=release)
    assert stored["exception"]["values"][0]["type"] == "ValueError"  # type: ignore[index]
    [issue] = bugsink.issues(release=release)
    assert (issue.title, issue.event_count, issue.last_frame_function) == (
        "ValueError: harness boom",
        1,
        "explode",
    )


def test_multipart_minidump_is_processed_with_release_and_tags(bugsink: BugsinkServer) -> None:
    """A multipart minidump upload is answered with a server-made id and stored as a native crash."""
    release = f"harness-minidump-{uuid.uuid4().hex[:8]}"
    dump = (MINIDUMP_FIXTURES / "crash_linux.dmp").read_bytes()
    boundary = uuid.uuid4().hex
    sentry_field = json.dumps({"release": release, "tags": {"flavour": "minidump"}})
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="sentry"\r\n\r\n'.encode(),
            sentry_field.encode(),
            f"\r\n--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="upload_file_minidump"; filename="crash.dmp"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n",
            dump,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    status, answer = post(
        f"{_api(bugsink, 'minidump')}?sentry_key={bugsink.sentry_key}",
        body,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 200, answer
    event_id = json.loads(answer)["id"]
    [stored] = bugsink.wait_for_events(1, release=release)
    assert stored["event_id"] == event_id
    assert stored["platform"] == "native"
    assert stored["exception"]["values"][0]["type"].startswith("SIGSEGV")  # type: ignore[index]
    assert bugsink.event_tags(event_id)["flavour"] == "minidump"


def test_a_supported_python_runs_bugsink() -> None:
    """The interpreter chosen for Bugsink is a CPython 3.10-3.13."""
    _, version = find_python()
    assert (3, 10) <= version <= (3, 13)


def test_stop_ends_the_server_and_its_worker(tmp_path: Path) -> None:
    """stop() leaves no process of the instance's group alive and the port closed."""
    server = BugsinkServer(tmp_path / "second")
    server.start()
    try:
        group = server._proc.pid  # type: ignore[union-attr]
        assert server.running
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=1):
        pass
