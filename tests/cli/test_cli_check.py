"""``tripwire check``: the DSN explained, the test event sent, the server's answer reported."""

from __future__ import annotations

from pathlib import Path

from cli_support import (
    ENVELOPE_PATH,
    SECRET,
    Runner,
    assert_no_secret,
    closed_port,
    dsn_for,
    received_envelopes,
)
from pytest_httpserver import HTTPServer


def test_explains_the_dsn_and_reports_acceptance(run_cli: Runner, httpserver: HTTPServer) -> None:
    """Endpoints, project and key presence are shown, the event is accepted, the secret never printed."""
    httpserver.expect_request(ENVELOPE_PATH, method="POST").respond_with_json({})
    proc = run_cli("check", "--dsn", dsn_for(httpserver, secret=True))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    base = f"http://127.0.0.1:{httpserver.port}/api/42"
    for expected in (
        "scheme:        http",
        "host:          127.0.0.1",
        f"port:          {httpserver.port}",
        "project id:    42",
        "path prefix:   (none)",
        "secret key:    present (not shown)",
        f"store:         {base}/store/",
        f"envelope:      {base}/envelope/",
        f"minidump:      {base}/minidump/?sentry_key=public",
        "status:        HTTP 200 (accepted)",
        "rate limits:   none",
        "time taken:",
    ):
        assert expected in out
    assert_no_secret(proc.stdout, proc.stderr)
    (envelope,) = received_envelopes(httpserver)
    event = envelope.event()
    assert event is not None
    assert f"event id:      {event['event_id']}" in out
    request = httpserver.log[0][0]
    assert f"sentry_secret={SECRET}" in request.headers["X-Sentry-Auth"]  # used, not shown


def test_reports_rate_limits_and_exits_5(run_cli: Runner, httpserver: HTTPServer) -> None:
    """A 429 with X-Sentry-Rate-Limits and Retry-After is explained, and exits 5."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_data(
        "",
        status=429,
        headers={
            "X-Sentry-Rate-Limits": "60:error;default:organization:quota_exceeded",
            "Retry-After": "60",
        },
    )
    proc = run_cli("check", "--dsn", dsn_for(httpserver))
    assert proc.returncode == 5
    assert "status:        HTTP 429 (refused)" in proc.stdout
    assert "error, default paused for 60s, scope organization, reason quota_exceeded" in proc.stdout
    assert "Retry-After: 60" in proc.stdout
    assert "rate limited" in proc.stderr


def test_reports_why_the_server_refused(run_cli: Runner, httpserver: HTTPServer) -> None:
    """A 403 shows X-Sentry-Error and the body's detail, hints at the key, and exits 5."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json(
        {"detail": "project disabled"}, status=403, headers={"X-Sentry-Error": "no such key"}
    )
    proc = run_cli("check", "--dsn", dsn_for(httpserver, secret=True))
    assert proc.returncode == 5
    assert "X-Sentry-Error: no such key" in proc.stdout
    assert "detail:        project disabled" in proc.stdout
    assert "HTTP 403" in proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)


def test_unreachable_server_exits_4(run_cli: Runner) -> None:
    """A refused connection is reported with its cause and exits 4, still without the secret."""
    dsn = f"http://public:{SECRET}@127.0.0.1:{closed_port()}/42"
    proc = run_cli("check", "--dsn", dsn)
    assert proc.returncode == 4
    assert "cannot reach" in proc.stderr
    assert "refused" in proc.stderr.lower()
    assert_no_secret(proc.stdout, proc.stderr)


def test_https_reports_tls_details(run_cli: Runner, tls_server: tuple[HTTPServer, Path]) -> None:
    """Over https the negotiated protocol, cipher, certificate and CA bundle are reported."""
    server, bundle = tls_server
    server.expect_request(ENVELOPE_PATH).respond_with_json({})
    proc = run_cli("check", "--dsn", dsn_for(server, scheme="https"), "--ca-certs", str(bundle))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "protocol:      TLSv1." in out
    assert "cipher:" in out
    assert "issued by O=trustme" in out
    assert f"verified with: CA bundle {bundle}" in out
    assert "status:        HTTP 200 (accepted)" in out


def test_untrusted_certificate_exits_4(
    run_cli: Runner, tls_server: tuple[HTTPServer, Path]
) -> None:
    """A certificate not signed by the CA bundle fails the handshake and exits 4."""
    server, _bundle = tls_server
    proc = run_cli("check", "--dsn", dsn_for(server, scheme="https"))
    assert proc.returncode == 4
    assert "handshake:     FAILED" in proc.stdout
    assert "CERTIFICATE_VERIFY_FAILED" in proc.stdout + proc.stderr
    assert received_envelopes(server) == []
