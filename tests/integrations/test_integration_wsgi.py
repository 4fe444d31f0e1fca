"""WsgiMiddleware around a real Flask app served by werkzeug on loopback."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from flask import Flask, Response, request, stream_with_context
from werkzeug.serving import make_server

import tripwire
from tripwire.integrations.wsgi import WsgiMiddleware
from tripwire.testing import CapturingTransport

Fetch = Callable[..., "tuple[int, bytes]"]


def _app(propagate: bool = True) -> Flask:
    app = Flask("wsgi_test")
    app.config["PROPAGATE_EXCEPTIONS"] = propagate
    barrier = threading.Barrier(8, timeout=10)

    @app.route("/boom", methods=["GET", "POST"])
    def boom() -> str:
        request.get_data()
        raise ZeroDivisionError("view failed")

    @app.route("/tagged/<int:n>")
    def tagged(n: int) -> str:
        tripwire.set_tag("request_number", n)
        barrier.wait()  # all eight requests are in flight at once
        raise LookupError(f"request {n}")

    @app.route("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            for i in range(3):
                yield f"chunk{i};"

        return Response(stream_with_context(chunks()))

    @app.route("/broken-stream")
    def broken_stream() -> Response:
        def chunks() -> Iterator[str]:
            yield "first;"
            raise BrokenPipeError("stream failed")

        return Response(chunks())

    app.wsgi_app = WsgiMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], Fetch]]:
    """``serve(app)`` runs app on a threaded loopback server; returns a fetch(method, path) function."""
    servers: list[Any] = []
    threads: list[threading.Thread] = []

    def start(app: Flask) -> Fetch:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        servers.append(server)
        threads.append(thread)

        def fetch(
            method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
        ) -> tuple[int, bytes]:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                return response.status, response.read()
            finally:
                conn.close()

        return fetch

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
    for thread in threads:
        thread.join(10)


HEADERS = {
    "Cookie": "session=s3cr3t",
    "Authorization": "Bearer tok",
    "X-Forwarded-For": "203.0.113.9",
    "User-Agent": "tests/1.0",
    "Content-Type": "application/json",
}


def _error_events(transport: CapturingTransport, expected: int = 1) -> list[dict[str, Any]]:
    """The error events, once ``expected`` have arrived or 5 s have passed.

    The server may answer before its thread has finished capturing (Starlette
    sends the 500, then re-raises), so the test waits, within a deadline.
    """
    deadline = time.monotonic() + 5
    while True:
        events = [e for e in transport.events if "exception" in e]
        if len(events) >= expected or time.monotonic() > deadline:
            return events
        time.sleep(0.01)


def test_exception_captured_with_request(
    init_sdk: Callable[..., CapturingTransport], serve: Callable[[Flask], Fetch]
) -> None:
    """A view's exception is sent (wsgi, unhandled) with the request minus personal data, then 500."""
    transport = init_sdk()
    fetch = serve(_app())
    status, _ = fetch("POST", "/boom?page=2", b'{"card": "4111"}', HEADERS)
    assert status == 500
    [event] = _error_events(transport)
    value = event["exception"]["values"][-1]
    assert value["type"] == "ZeroDivisionError"
    assert (value["mechanism"]["type"], value["mechanism"]["handled"]) == ("wsgi", False)
    req = event["request"]
    assert req["url"].endswith("/boom")
    assert req["url"].startswith("http://127.0.0.1:")
    assert req["method"] == "POST"
    assert req["query_string"] == "page=2"
    assert req["headers"]["User-Agent"] == "tests/1.0"
    lowered = {k.lower() for k in req["headers"]}
    assert not lowered & {"cookie", "authorization", "x-forwarded-for"}
    assert not {"cookies", "data", "env"} & set(req)
    assert event["transaction"] == "/boom"
    assert "wsgi" in event["sdk"]["integrations"]
    assert "contexts" in event and len(event["contexts"]["trace"]["trace_id"]) == 32


def test_personal_data_with_pii(
    init_sdk: Callable[..., CapturingTransport], serve: Callable[[Flask], Fetch]
) -> None:
    """With send_default_pii the event has REMOTE_ADDR, cookies, address headers and the body."""
    transport = init_sdk(send_default_pii=True)
    fetch = serve(_app())
    fetch("POST", "/boom", b'{"card": "4111"}', HEADERS)
    [event] = _error_events(transport)
    req = event["request"]
    assert req["env"] == {"REMOTE_ADDR": "127.0.0.1"}
    assert req["cookies"] == {"session": "s3cr3t"}
    assert req["headers"]["X-Forwarded-For"] == "203.0.113.9"
    assert "Authorization" not in req["headers"]
    assert req["data"] == {"card": "4111"}


def test_body_over_limit_left_out(
    init_sdk: Callable[..., CapturingTransport], serve: Callable[[Flask], Fetch]
) -> None:
    """A body larger than max_request_body_size='small' is not attached, and the app still reads it."""
    transport = init_sdk(send_default_pii=True, max_request_body_size="small")
    fetch = serve(_app())
    body = json.dumps({"blob": "x" * 2000}).encode()
    fetch("POST", "/boom", body, {"Content-Type": "application/json"})
    [event] = _error_events(transport)
    assert "data" not in event["request"]


def test_streamed_response_works(
    init_sdk: Callable[..., CapturingTransport], serve: Callable[[Flask], Fetch]
) -> None:
    """A streamed response reaches the client whole, and sends nothing."""
    transport = init_sdk()
    fetch = serve(_app())
    assert fetch("GET", "/stream") == (200, b"chunk0;chunk1;chunk2;")
    assert _error_events(transport, 0) == []


def test_exception_while_streaming_captured(
    init_sdk: Callable[..., CapturingTransport], serve: Callable[[Flask], Fetch]
) -> None:
    """An exception raised while the server iterates a streamed response is captured."""
    transport = init_sdk()
    fetch = serve(_app())
    try:
        fetch("GET", "/broken-stream")
    except (http.client.HTTPException, OSError):
        pass  # the server cuts the response short
    [event] = _error_events(transport)
    assert event["exception"]["values"][-1]["type"] == "BrokenPipeError"
    assert event["exception"]["values"][-1]["mechanism"]["type"] == "wsgi"
    assert event["request"]["url"].endswith("/broken-stream")


def test_concurrent_requests_do_not_share_scope(
    init_sdk: Callable[..., CapturingTransport], serve: Callable[[Flask], Fetch]
) -> None:
    """Eight requests in flight at once each report only their own tag, URL and trace."""
    transport = init_sdk()
    fetch = serve(_app())
    threads = [threading.Thread(target=fetch, args=("GET", f"/tagged/{n}")) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    events = _error_events(transport, 8)
    assert len(events) == 8
    for event in events:
        n = event["tags"]["request_number"]
        assert event["exception"]["values"][-1]["value"] == f"request {n}"
        assert event["request"]["url"].endswith(f"/tagged/{n}")
    assert len({e["contexts"]["trace"]["trace_id"] for e in events}) == 8


def test_flask_logged_error_carries_request(
    init_sdk: Callable[..., CapturingTransport], serve: Callable[[Flask], Fetch]
) -> None:
    """When Flask handles the exception itself, its logged error still carries the request."""
    transport = init_sdk()
    fetch = serve(_app(propagate=False))
    assert fetch("GET", "/boom")[0] == 500
    [event] = _error_events(transport)
    assert event["exception"]["values"][-1]["mechanism"]["type"] == "logging"
    assert event["request"]["url"].endswith("/boom")
    assert event["transaction"] == "/boom"
