"""The HTTP transport when the network misbehaves, over TLS, and through a proxy."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from pytest_httpserver import HTTPServer

from tripwire._envelope import Envelope
from tripwire._options import build_options
from tripwire._transport import HttpTransport, SendResult, make_transport

EVENT = {"event_id": "a" * 32, "exception": {"values": [{"type": "E", "value": "v"}]}}


@pytest.fixture
def transports() -> Iterator[list[HttpTransport]]:
    made: list[HttpTransport] = []
    yield made
    for transport in made:
        transport.close(1.0)


@pytest.fixture
def make(transports: list[HttpTransport]) -> Any:
    def factory(dsn: str, environ: dict[str, str] | None = None, **options: Any) -> HttpTransport:
        transport = HttpTransport(
            build_options(dsn=dsn, environ={}, **options), environ=environ or {}
        )
        transports.append(transport)
        return transport

    return factory


def test_connection_refused_is_dropped_without_retry(
    make: Any, dead_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Connection refused drops each event as network_error, logged once at warning level."""
    outcomes: list[SendResult] = []
    transport = make(f"http://k@127.0.0.1:{dead_port}/1", after_send=outcomes.append)
    with caplog.at_level(logging.WARNING, logger="tripwire"):
        for _ in range(3):
            assert transport.capture_event(dict(EVENT))
        result = transport.flush(5.0)
    assert result.sent == 0 and result.pending == 0
    assert result.dropped == {"network_error": 3}
    assert [o.outcome for o in outcomes] == ["network_error"] * 3
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1


def test_read_timeout_against_silent_server(make: Any, raw_server: Any) -> None:
    """A server that accepts and never answers costs one read timeout, then the event is dropped."""
    server = raw_server("hang")
    transport = make(f"http://k@127.0.0.1:{server.port}/1", read_timeout=0.3)
    transport.capture_event(dict(EVENT))
    started = time.monotonic()
    result = transport.flush(5.0)
    assert result.dropped == {"network_error": 1}
    assert time.monotonic() - started < 3.0
    assert len(server.requests) == 1


def test_server_closing_mid_response(make: Any, raw_server: Any) -> None:
    """A response cut off in the middle is a network error, not a crash or a hang."""
    server = raw_server("close_mid")
    transport = make(f"http://k@127.0.0.1:{server.port}/1")
    transport.capture_event(dict(EVENT))
    assert transport.flush(5.0).dropped == {"network_error": 1}
    transport.capture_event(dict(EVENT))
    assert transport.flush(5.0).dropped == {"network_error": 1}
    assert len(server.requests) == 2


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[HTTPServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_tls_with_private_ca(
    make: Any, tls_server: HTTPServer, ca: trustme.CA, tmp_path: Any
) -> None:
    """An https DSN is verified against the ca_certs bundle and the event arrives."""
    tls_server.expect_request("/api/1/envelope/").respond_with_json({})
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    transport = make(f"https://k@127.0.0.1:{tls_server.port}/1", ca_certs=str(ca_path))
    transport.capture_event(dict(EVENT))
    assert transport.flush(5.0).sent == 1
    assert len(tls_server.log) == 1


def test_tls_with_wrong_ca_fails_cleanly(
    make: Any, tls_server: HTTPServer, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A server certificate from another CA is refused: logged as a network error, nothing sent."""
    tls_server.expect_request("/api/1/envelope/").respond_with_json({})
    other = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    transport = make(f"https://k@127.0.0.1:{tls_server.port}/1", ca_certs=str(other))
    with caplog.at_level(logging.WARNING, logger="tripwire"):
        transport.capture_event(dict(EVENT))
        assert transport.flush(5.0).dropped == {"network_error": 1}
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text or "certificate" in caplog.text.lower()
    assert len(tls_server.log) == 0


def test_mutual_tls(make: Any, ca: trustme.CA, tmp_path: Any) -> None:
    """cert_file/key_file present a client certificate that a server requiring one accepts."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    try:
        server.expect_request("/api/1/envelope/").respond_with_json({})
        ca_path, cert_path, key_path = tmp_path / "ca.pem", tmp_path / "c.pem", tmp_path / "k.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        client = ca.issue_cert("client@example.invalid")
        client.cert_chain_pems[0].write_to_path(str(cert_path))
        client.private_key_pem.write_to_path(str(key_path))
        dsn = f"https://k@127.0.0.1:{server.port}/1"

        without = make(dsn, ca_certs=str(ca_path))
        without.capture_event(dict(EVENT))
        assert without.flush(5.0).dropped == {"network_error": 1}

        with_cert = make(
            dsn, ca_certs=str(ca_path), cert_file=str(cert_path), key_file=str(key_path)
        )
        with_cert.capture_event(dict(EVENT))
        assert with_cert.flush(5.0).sent == 1
    finally:
        server.clear()
        server.stop()


def test_http_proxy_option_gets_absolute_form_request(make: Any, raw_server: Any) -> None:
    """With http_proxy set, the request goes to the proxy in absolute form for the DSN's host."""
    proxy = raw_server("ok")
    transport = make(
        "http://k@sentry.invalid:9000/1", http_proxy=f"http://u:p@127.0.0.1:{proxy.port}"
    )
    transport.capture_event(dict(EVENT))
    assert transport.flush(5.0).sent == 1
    (request,) = proxy.requests
    head = request.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("POST http://sentry.invalid:9000/api/1/envelope/ HTTP/1.1")
    assert "proxy-authorization: basic dtpw" in head.lower()


def test_proxy_from_environment_and_no_proxy(make: Any, raw_server: Any) -> None:
    """HTTP_PROXY from the environment is used, and NO_PROXY listing the host bypasses it."""
    proxy = raw_server("ok")
    direct = raw_server("ok")
    env = {"HTTP_PROXY": f"http://127.0.0.1:{proxy.port}"}
    via_proxy = make("http://k@sentry.invalid/1", environ=env)
    via_proxy.capture_event(dict(EVENT))
    assert via_proxy.flush(5.0).sent == 1
    assert len(proxy.requests) == 1

    bypass = make(f"http://k@127.0.0.1:{direct.port}/1", environ={**env, "NO_PROXY": "127.0.0.0/8"})
    bypass.capture_event(dict(EVENT))
    assert bypass.flush(5.0).sent == 1
    assert len(proxy.requests) == 1 and len(direct.requests) == 1


def test_callable_transport_receives_envelopes() -> None:
    """A plain callable as the transport option receives each envelope on the worker thread."""
    received: list[Envelope] = []
    transport = make_transport(build_options(transport=received.append, environ={}))
    assert transport is not None
    transport.capture_event(dict(EVENT))
    result = transport.close(5.0)
    assert result.sent == 1
    (envelope,) = received
    assert {k: v for k, v in envelope.event().items() if k != "modules"} == EVENT
    assert "dsn" not in envelope.headers


def test_failing_callable_counts_send_error() -> None:
    """A callable transport that raises drops the event as send_error; the worker survives."""
    calls: list[int] = []

    def flaky(envelope: Envelope) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")

    transport = make_transport(build_options(transport=flaky, environ={}))
    assert transport is not None
    transport.capture_event(dict(EVENT))
    transport.capture_event(dict(EVENT))
    result = transport.close(5.0)
    assert result.sent == 1 and result.dropped == {"send_error": 1}


def test_transport_subclass_adopts_client_options() -> None:
    """A Transport subclass built without options takes the client's (after_send here)."""
    from tripwire._transport import Transport

    class Memory(Transport):
        def __init__(self) -> None:
            super().__init__()
            self.sent: list[Envelope] = []

        def send_envelope(self, envelope: Envelope) -> None:
            self.sent.append(envelope)

    outcomes: list[SendResult] = []
    memory = Memory()
    transport = make_transport(
        build_options(transport=memory, after_send=outcomes.append, environ={})
    )
    assert transport is memory
    memory.capture_event(dict(EVENT))
    assert memory.close(5.0).sent == 1
    assert [o.outcome for o in outcomes] == ["sent"]


def test_no_transport_without_dsn() -> None:
    """Without a DSN or a transport option there is no transport."""
    assert make_transport(build_options(environ={})) is None
