"""The Flask and Starlette examples, served on loopback and reporting to a second loopback receiver."""

from __future__ import annotations

import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from examples_support import Receiver, load_example, start_example, stop, wait_for_output
from werkzeug.serving import make_server

import tripwire


def _get(url: str) -> int:
    """GET ``url`` and return the status, 5xx included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def _events_of(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    """Flush, then the events the receiver got; there must be exactly ``count``."""
    result = tripwire.flush(5.0)
    assert result is not None and result.pending == 0
    events: list[dict[str, Any]] = receiver.events()
    assert len(events) == count, events
    return events


def _check_order_event(event: dict[str, Any], base: str, order_id: str, mechanism: str) -> None:
    values = event["exception"]["values"]
    assert values[-1]["type"] == "KeyError"
    assert values[-1]["mechanism"]["type"] == mechanism
    assert event["tags"]["order_id"] == order_id
    assert event["request"]["method"] == "GET"
    assert event["request"]["url"] == f"{base}/orders/{order_id}"


@pytest.fixture
def flask_base(receiver: Receiver) -> Iterator[str]:
    """The Flask example served by werkzeug on 127.0.0.1 in a thread, tripwire reporting to the receiver."""
    flask_app = load_example("flask_app")
    tripwire.init(receiver.dsn, release="flask-example@test")
    server = make_server("127.0.0.1", 0, flask_app.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="flask-example", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        assert not thread.is_alive()


def test_flask_app_reports_the_failing_route_with_its_request(
    flask_base: str, receiver: Receiver
) -> None:
    """A failing Flask view is reported once per request, with that request and its tags only."""
    assert _get(f"{flask_base}/") == 200
    assert _get(f"{flask_base}/orders/1") == 200
    assert _get(f"{flask_base}/orders/7") == 500
    assert _get(f"{flask_base}/orders/9") == 500
    tripwire.capture_message("after the requests")

    first, second, after = _events_of(receiver, 3)
    # Flask logs the view's exception itself, so it arrives through logging.
    _check_order_event(first, flask_base, "7", "logging")
    _check_order_event(second, flask_base, "9", "logging")
    assert first["transaction"] == "/orders/7"
    assert "wsgi" in first["sdk"]["integrations"]
    # What the requests set stayed in their own scopes.
    assert "order_id" not in after.get("tags", {})
    assert "request" not in after


@pytest.fixture
def starlette_base(receiver: Receiver) -> Iterator[str]:
    """The Starlette example served by uvicorn on 127.0.0.1 in a thread, tripwire reporting to the receiver."""
    starlette_app = load_example("starlette_app")
    tripwire.init(receiver.dsn, release="starlette-example@test")
    config = uvicorn.Config(
        starlette_app.app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="starlette-example", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started"
            assert time.monotonic() < deadline, "uvicorn did not start within 10s"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive()


def test_starlette_app_reports_the_failing_route_with_its_request(
    starlette_base: str, receiver: Receiver
) -> None:
    """A failing Starlette endpoint answers 500 and is reported once, named after its route template."""
    # A connection each: uvicorn closes a connection whose request raised.
    for path, status in [("/", 200), ("/orders/2", 200), ("/orders/7", 500), ("/orders/9", 500)]:
        assert httpx.get(starlette_base + path, timeout=10).status_code == status
    tripwire.capture_message("after the requests")

    first, second, after = _events_of(receiver, 3)
    _check_order_event(first, starlette_base, "7", "asgi")
    _check_order_event(second, starlette_base, "9", "asgi")
    assert first["exception"]["values"][-1]["mechanism"]["handled"] is False
    # Starlette's releases for Python 3.9 do not put the route template in the scope.
    assert first["transaction"] in ("/orders/{order_id}", "/orders/7")
    if sys.version_info >= (3, 10):
        assert first["transaction"] == "/orders/{order_id}"
    assert "asgi" in first["sdk"]["integrations"]
    assert "order_id" not in after.get("tags", {})
    assert "request" not in after


@pytest.mark.parametrize(
    ("script", "listening"),
    [
        ("flask_app.py", r"serving on (http://127\.0\.0\.1:\d+)"),
        ("starlette_app.py", r"Uvicorn running on (http://127\.0\.0\.1:\d+)"),
    ],
    ids=["flask", "starlette"],
)
def test_web_app_script_serves_and_reports_from_its_own_process(
    script: str, listening: str, receiver: Receiver
) -> None:
    """Run as a script with ``--requests 2``, each app serves, reports the failure, and exits 0."""
    process = start_example(script, "--port", "0", "--requests", "2", dsn=receiver.dsn)
    try:
        base = wait_for_output(process, listening, timeout=20).group(1)
        assert _get(f"{base}/") == 200
        assert _get(f"{base}/orders/7") == 500
        assert process.wait(timeout=20) == 0
    finally:
        stop(process)

    events: list[dict[str, Any]] = receiver.events()
    (event,) = events
    assert event["exception"]["values"][-1]["type"] == "KeyError"
    assert event["tags"]["order_id"] == "7"
    assert event["request"]["url"] == f"{base}/orders/7"
