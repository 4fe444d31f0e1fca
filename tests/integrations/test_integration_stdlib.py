"""http.client requests leave http breadcrumbs."""

from __future__ import annotations

import http.client
import socket
import urllib.request
from typing import Any, Callable

import pytest
from pytest_httpserver import HTTPServer

import tripwire
from tripwire.testing import CapturingTransport


def _http_crumbs(transport: CapturingTransport) -> list[dict[str, Any]]:
    tripwire.capture_message("probe")
    crumbs = transport.events[-1].get("breadcrumbs", {}).get("values", [])
    return [c for c in crumbs if c.get("type") == "http"]


def test_request_leaves_breadcrumb(
    init_sdk: Callable[..., CapturingTransport], httpserver: HTTPServer
) -> None:
    """A GET through urllib leaves method, URL without query or credentials, status and reason."""
    httpserver.expect_request("/items").respond_with_data("ok")
    transport = init_sdk()
    url = f"http://user:secret@127.0.0.1:{httpserver.port}/items?token=abc#frag"
    handler = urllib.request.HTTPBasicAuthHandler()
    opener = urllib.request.build_opener(handler)
    with opener.open(url.replace("user:secret@", ""), timeout=10) as response:
        assert response.read() == b"ok"
    [crumb] = _http_crumbs(transport)
    assert crumb["category"] == "httplib"
    assert crumb["level"] == "info"
    assert crumb["data"] == {
        "method": "GET",
        "url": f"http://127.0.0.1:{httpserver.port}/items",
        "status_code": 200,
        "reason": "OK",
    }


def test_query_kept_with_pii(
    init_sdk: Callable[..., CapturingTransport], httpserver: HTTPServer
) -> None:
    """With send_default_pii the query string is kept as http.query."""
    httpserver.expect_request("/search").respond_with_data("ok")
    transport = init_sdk(send_default_pii=True)
    conn = http.client.HTTPConnection("127.0.0.1", httpserver.port, timeout=10)
    try:
        conn.request("GET", "/search?q=shoes")
        conn.getresponse().read()
    finally:
        conn.close()
    [crumb] = _http_crumbs(transport)
    assert crumb["data"]["http.query"] == "q=shoes"
    assert crumb["data"]["url"].endswith("/search")


def test_error_status_level(
    init_sdk: Callable[..., CapturingTransport], httpserver: HTTPServer
) -> None:
    """A 5xx answer makes an error-level crumb, a 4xx a warning-level one."""
    httpserver.expect_request("/down").respond_with_data("no", status=503)
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    transport = init_sdk()
    conn = http.client.HTTPConnection("127.0.0.1", httpserver.port, timeout=10)
    try:
        for path in ("/down", "/gone"):
            conn.request("POST", path, body=b"x")
            conn.getresponse().read()
    finally:
        conn.close()
    crumbs = _http_crumbs(transport)
    assert [(c["data"]["status_code"], c["level"]) for c in crumbs] == [
        (503, "error"),
        (404, "warning"),
    ]
    assert crumbs[0]["data"]["method"] == "POST"


def test_failed_request_recorded(init_sdk: Callable[..., CapturingTransport]) -> None:
    """A request whose server hangs up without answering leaves an error crumb naming the error."""
    transport = init_sdk()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        conn = http.client.HTTPConnection("127.0.0.1", listener.getsockname()[1], timeout=10)
        try:
            conn.putrequest("GET", "/x")
            conn.endheaders()
            accepted, _ = listener.accept()
            with accepted:
                accepted.settimeout(10)
                accepted.recv(65536)  # read the request, then hang up without a word
            with pytest.raises(http.client.RemoteDisconnected):
                conn.getresponse()
        finally:
            conn.close()
    [crumb] = _http_crumbs(transport)
    assert crumb["level"] == "error"
    assert crumb["data"]["reason"] == "RemoteDisconnected"
    assert "status_code" not in crumb["data"]


def test_requests_to_dsn_host_excluded(
    init_sdk: Callable[..., CapturingTransport], httpserver: HTTPServer
) -> None:
    """Requests to the DSN's own host and port leave no breadcrumb."""
    httpserver.expect_request("/api/1/envelope/").respond_with_data("{}")
    transport = init_sdk(dsn=f"http://key@127.0.0.1:{httpserver.port}/1")
    conn = http.client.HTTPConnection("127.0.0.1", httpserver.port, timeout=10)
    try:
        conn.request("POST", "/api/1/envelope/", body=b"{}")
        conn.getresponse().read()
    finally:
        conn.close()
    assert _http_crumbs(transport) == []


def test_disabled_stdlib_leaves_nothing(
    init_sdk: Callable[..., CapturingTransport], httpserver: HTTPServer
) -> None:
    """With stdlib disabled, the installed wrapper records nothing."""
    httpserver.expect_request("/items").respond_with_data("ok")
    init_sdk()
    transport = init_sdk(disabled_integrations=["stdlib"])
    with urllib.request.urlopen(f"http://127.0.0.1:{httpserver.port}/items", timeout=10) as r:
        r.read()
    assert _http_crumbs(transport) == []
