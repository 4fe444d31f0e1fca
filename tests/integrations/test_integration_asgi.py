"""AsgiMiddleware around a real Starlette app served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Callable

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

import tripwire
from tripwire.integrations.asgi import AsgiMiddleware
from tripwire.testing import CapturingTransport

# Whether the Starlette in use records the matched route in the ASGI scope
# (newer releases do; older ones, the only ones on Python 3.9, do not).
ROUTE_RECORDED: list[bool] = []


def _app() -> AsgiMiddleware:

    async def boom(request: Request) -> PlainTextResponse:
        await request.body()
        raise ZeroDivisionError("endpoint failed")

    gate: dict[str, Any] = {}

    async def tagged(request: Request) -> PlainTextResponse:
        n = int(request.path_params["n"])
        tripwire.set_tag("request_number", n)
        # Let every other request start and set its tag before this one fails.
        gate.setdefault("count", 0)
        gate["count"] += 1
        deadline = time.monotonic() + 10
        while gate["count"] < 8 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        raise LookupError(f"request {n}")

    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"chunk{i};".encode()
                await asyncio.sleep(0)

        return StreamingResponse(chunks())

    async def named(request: Request) -> PlainTextResponse:
        ROUTE_RECORDED.append("route" in request.scope)
        raise KeyError(request.path_params["name"])

    async def ok(request: Request) -> PlainTextResponse:
        return PlainTextResponse("fine")

    app = Starlette(
        routes=[
            Route("/boom", boom, methods=["GET", "POST"]),
            Route("/items/{n}", tagged),
            Route("/stream", stream),
            Route("/ok", ok),
            Route("/users/{name}", named),
        ]
    )
    return AsgiMiddleware(app)


@pytest.fixture
def base_url() -> Iterator[str]:
    """The URL of the app under uvicorn on a loopback port, started in a thread and stopped after."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_app(), log_level="critical", lifespan="off", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert server.started, "uvicorn did not start within 10 s"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


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
    init_sdk: Callable[..., CapturingTransport], base_url: str
) -> None:
    """An endpoint's exception is sent (asgi, unhandled) with the request minus personal data."""
    transport = init_sdk()
    response = httpx.post(f"{base_url}/boom?page=2", content=b'{"a": 1}', headers=HEADERS)
    assert response.status_code == 500
    [event] = _error_events(transport)
    value = event["exception"]["values"][-1]
    assert value["type"] == "ZeroDivisionError"
    assert (value["mechanism"]["type"], value["mechanism"]["handled"]) == ("asgi", False)
    req = event["request"]
    assert req["url"] == f"{base_url}/boom"
    assert req["method"] == "POST"
    assert req["query_string"] == "page=2"
    assert req["headers"]["user-agent"] == "tests/1.0"
    assert not {k.lower() for k in req["headers"]} & {"cookie", "authorization", "x-forwarded-for"}
    assert not {"cookies", "data", "env"} & set(req)
    assert event["transaction"] == "/boom"
    assert "asgi" in event["sdk"]["integrations"]


def test_personal_data_with_pii(init_sdk: Callable[..., CapturingTransport], base_url: str) -> None:
    """With send_default_pii the event has the client address, cookies and the JSON body."""
    transport = init_sdk(send_default_pii=True)
    httpx.post(f"{base_url}/boom", content=b'{"a": 1}', headers=HEADERS)
    [event] = _error_events(transport)
    req = event["request"]
    assert req["env"] == {"REMOTE_ADDR": "127.0.0.1"}
    assert req["cookies"] == {"session": "s3cr3t"}
    assert req["data"] == {"a": 1}
    assert "authorization" not in req["headers"]


def test_route_template_is_transaction(
    init_sdk: Callable[..., CapturingTransport], base_url: str
) -> None:
    """The transaction is the route's path template when Starlette records it, else the path."""
    transport = init_sdk()
    ROUTE_RECORDED.clear()
    httpx.get(f"{base_url}/users/ada")
    [event] = _error_events(transport)
    expected = "/users/{name}" if ROUTE_RECORDED == [True] else "/users/ada"
    assert ROUTE_RECORDED in ([True], [False])
    assert event["transaction"] == expected
    assert event["request"]["url"].endswith("/users/ada")


def test_streamed_response_works(
    init_sdk: Callable[..., CapturingTransport], base_url: str
) -> None:
    """A streamed response arrives whole and sends nothing."""
    transport = init_sdk()
    response = httpx.get(f"{base_url}/stream")
    assert response.text == "chunk0;chunk1;chunk2;"
    assert _error_events(transport, 0) == []


def test_concurrent_requests_do_not_share_scope(
    init_sdk: Callable[..., CapturingTransport], base_url: str
) -> None:
    """Eight requests in flight at once each report only their own tag, URL and trace."""
    transport = init_sdk()

    async def send_all() -> None:
        async with httpx.AsyncClient(timeout=15) as client:
            await asyncio.gather(*(client.get(f"{base_url}/items/{n}") for n in range(8)))

    asyncio.run(send_all())
    events = _error_events(transport, 8)
    assert len(events) == 8
    for event in events:
        n = event["tags"]["request_number"]
        assert event["exception"]["values"][-1]["value"] == f"request {n}"
        assert event["request"]["url"].endswith(f"/items/{n}")
    assert len({e["contexts"]["trace"]["trace_id"] for e in events}) == 8


def test_healthy_request_sends_nothing(
    init_sdk: Callable[..., CapturingTransport], base_url: str
) -> None:
    """A request that succeeds sends no event."""
    transport = init_sdk()
    assert httpx.get(f"{base_url}/ok").text == "fine"
    assert _error_events(transport, 0) == []
