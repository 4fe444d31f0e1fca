"""flush() without a timeout: waits while events keep leaving, gives up on a stuck server."""

from __future__ import annotations

import time

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from tripwire._options import build_options
from tripwire._transport import make_transport

EVENT = {"message": "burst"}


def test_flush_without_timeout_outlasts_shutdown_timeout_while_sending(
    httpserver: HTTPServer,
) -> None:
    """A steady server gets the whole queue although it takes longer than shutdown_timeout."""

    def slow(request: Request) -> Response:
        time.sleep(0.03)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/1/envelope/").respond_with_handler(slow)
    transport = make_transport(
        build_options(f"http://k@127.0.0.1:{httpserver.port}/1", shutdown_timeout=0.2)
    )
    assert transport is not None
    for i in range(30):
        assert transport.capture_event({**EVENT, "event_id": f"{i:032x}"})
    started = time.monotonic()
    result = transport.flush()
    assert result.sent == 30
    assert result.pending == 0
    assert time.monotonic() - started > 0.2
    transport.close(1.0)


def test_flush_without_timeout_gives_up_on_a_server_that_never_answers(raw_server) -> None:
    """Against a server that never answers, flush() returns after about shutdown_timeout."""
    server = raw_server("hang")
    transport = make_transport(
        build_options(
            f"http://k@127.0.0.1:{server.port}/1", shutdown_timeout=0.5, read_timeout=30.0
        )
    )
    assert transport is not None
    transport.capture_event({**EVENT, "event_id": "a" * 32})
    started = time.monotonic()
    result = transport.flush()
    elapsed = time.monotonic() - started
    assert elapsed < 5.0
    if result.pending == 0:  # the server hung up after all: then it was counted, not lost
        assert result.dropped == {"network_error": 1}
    else:
        assert result.pending == 1
        assert elapsed > 0.4
    transport.close(0.1)
