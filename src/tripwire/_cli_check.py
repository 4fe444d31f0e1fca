"""``tripwire check``: explain a DSN, send a test event, and report the server's answer.

The test event is posted here, through the SDK's own HTTP client, not through
the transport: the report needs the raw answer (headers, body, timing) that the
transport digests. Nothing printed ever contains the DSN's secret key.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Mapping
from typing import TextIO

from ._cli_common import (
    EXIT_STATUS_HELP,
    OK,
    REJECTED,
    UNREACHABLE,
    CliError,
    CliParser,
    SubParsers,
    build_cli_options,
    redact,
    resolve_dsn,
)
from ._cli_tls import TlsInfo, probe_tls
from ._client import new_event_id
from ._dsn import USER_AGENT, Dsn
from ._envelope import CONTENT_TYPE, SDK_INFO, Envelope, envelope_headers, event_item
from ._http import HttpClient, HttpResult, compress
from ._minidump import parse_server_event_id
from ._options import Options
from ._proxy import choose_proxy
from ._transport import response_detail

TEST_MESSAGE = "tripwire check: test event"

_HINTS: Mapping[int, str] = {
    400: "the server could not read the event (an old server? try a newer tripwire)",
    401: "the server refused the key: check the DSN's public key",
    403: "the key is not allowed for this project: check the key and the project id",
    404: "no such endpoint: check the host, the path prefix and the project id",
    413: "the event was too large for the server",
    429: "rate limited: the project or key is over its quota",
}


def _row(out: TextIO, label: str, value: object) -> None:
    out.write(f"  {label + ':' if label else '':<14} {value}\n")


def explain_dsn(dsn: Dsn, out: TextIO) -> None:
    """The parts and endpoints of ``dsn``; the secret key only as present or absent."""
    default_port = 443 if dsn.scheme == "https" else 80
    out.write("DSN\n")
    _row(out, "scheme", dsn.scheme)
    _row(out, "host", dsn.host)
    _row(out, "port", dsn.port if dsn.port is not None else f"{default_port} (default)")
    _row(out, "project id", dsn.project_id)
    _row(out, "path prefix", dsn.path_prefix or "(none)")
    _row(out, "public key", dsn.public_key)
    _row(out, "secret key", "present (not shown)" if dsn.secret_key else "none")
    _row(out, "store", dsn.store_url)
    _row(out, "envelope", dsn.envelope_url)
    _row(out, "minidump", dsn.minidump_url)


def _report_tls(dsn: Dsn, options: Options, timeout: float, out: TextIO) -> None:
    out.write("TLS\n")
    proxy = choose_proxy(
        dsn.scheme,
        dsn.host,
        dsn.port,
        http_proxy=options.http_proxy,
        https_proxy=options.https_proxy,
        environ=os.environ,
    )
    if proxy:
        _row(out, "not probed", f"requests go through the proxy {redact(proxy)}")
        return
    info: TlsInfo = probe_tls(
        dsn.host,
        dsn.port or 443,
        ca_certs=options.ca_certs,
        cert_file=options.cert_file,
        key_file=options.key_file,
        timeout=min(timeout, options.connect_timeout),
    )
    if info.error:
        _row(out, "handshake", f"FAILED: {redact(info.error)}")
    else:
        _row(out, "protocol", info.protocol)
        _row(out, "cipher", f"{info.cipher} ({info.bits} bits)")
        _row(out, "certificate", f"{info.subject or '(no name)'}, issued by {info.issuer}")
        if info.names:
            shown = ", ".join(info.names[:5]) + (", ..." if len(info.names) > 5 else "")
            _row(out, "valid for", shown)
        _row(out, "valid until", info.not_after)
        _row(out, "handshake", f"{info.seconds * 1000:.0f} ms")
    _row(out, "verified with", f"CA bundle {info.ca_bundle}")


def _test_envelope(dsn: Dsn, options: Options, event_id: str) -> bytes:
    now = time.time()
    event: dict[str, object] = {
        "event_id": event_id,
        "timestamp": now,
        "platform": "python",
        "level": "info",
        "logentry": {"formatted": TEST_MESSAGE},
        "environment": options.environment,
        "tags": {"tripwire.check": "yes"},
        "sdk": dict(SDK_INFO),
    }
    if options.release:
        event["release"] = options.release
    payload = json.dumps(event, separators=(",", ":")).encode("utf-8")
    return Envelope(envelope_headers(event_id, dsn, now), [event_item(payload)]).serialize()


def explain_rate_limits(headers: Mapping[str, str]) -> list[str]:
    """Readable lines for ``X-Sentry-Rate-Limits`` and ``Retry-After``; empty when absent."""
    lines: list[str] = []
    for entry in headers.get("x-sentry-rate-limits", "").split(","):
        fields = [part.strip() for part in entry.strip().split(":")]
        if not fields[0]:
            continue
        categories = fields[1].replace(";", ", ") if len(fields) > 1 and fields[1] else "all"
        line = f"{categories} paused for {fields[0]}s"
        if len(fields) > 2 and fields[2]:
            line += f", scope {fields[2]}"
        if len(fields) > 3 and fields[3]:
            line += f", reason {fields[3]}"
        lines.append(line)
    retry_after = headers.get("retry-after")
    if retry_after:
        lines.append(f"Retry-After: {retry_after}")
    return lines


def send_test_event(dsn: Dsn, options: Options, timeout: float) -> tuple[str, HttpResult, float]:
    """POST a test event as the transport would; (event id, the answer, seconds taken)."""
    event_id = new_event_id()
    body, encoding = compress(
        _test_envelope(dsn, options, event_id),
        options.compression_algorithm,
        options.compression_level,
    )
    headers = {
        "User-Agent": USER_AGENT,
        "Content-Type": CONTENT_TYPE,
        "Content-Length": str(len(body)),
        "X-Sentry-Auth": dsn.auth_header(),
    }
    if encoding:
        headers["Content-Encoding"] = encoding
    client = HttpClient(options)
    start = time.monotonic()
    try:
        result = client.post(dsn.envelope_url, body, headers, time_left=timeout)
    finally:
        client.close()
    return event_id, result, time.monotonic() - start


def run_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    dsn = resolve_dsn(args.dsn)
    options = build_cli_options(
        dsn, debug=args.debug, ca_certs=args.ca_certs, environment=args.environment
    )
    explain_dsn(dsn, out)
    if dsn.scheme == "https":
        _report_tls(dsn, options, args.timeout, out)
    out.flush()

    event_id, result, seconds = send_test_event(dsn, options, args.timeout)
    out.write("Test event\n")
    _row(out, "sent to", dsn.envelope_url)
    _row(out, "event id", event_id)
    _row(out, "time taken", f"{seconds * 1000:.0f} ms")
    if result.status is None:
        _row(out, "answer", "none")
        out.flush()
        raise CliError(
            f"cannot reach {dsn.netloc}: {redact(result.error or 'unknown error')}", UNREACHABLE
        )
    accepted = 200 <= result.status < 300
    _row(out, "status", f"HTTP {result.status} ({'accepted' if accepted else 'refused'})")
    server_id = parse_server_event_id(
        result.status, result.headers.get("content-type"), result.body
    )
    if server_id is not None:
        _row(out, "server's id", server_id)
    limits = explain_rate_limits(result.headers) or ["none"]
    for index, line in enumerate(limits):
        _row(out, "rate limits" if index == 0 else "", line)
    if not accepted:
        error_header = result.headers.get("x-sentry-error")
        if error_header:
            _row(out, "X-Sentry-Error", redact(error_header))
        detail = response_detail(result.body) or None
        if detail:
            _row(out, "detail", redact(detail))
        out.flush()
        hint = _HINTS.get(result.status, "the server refused the event")
        raise CliError(f"{dsn.netloc} answered HTTP {result.status}: {hint}", REJECTED)
    out.write("OK: the server accepted the test event\n")
    out.flush()
    return OK


def add_check_parser(
    sub: SubParsers[CliParser],
    parents: list[CliParser],
) -> None:
    parser = sub.add_parser(
        "check",
        parents=parents,
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="explain the DSN, send a test event and report the server's answer",
        description=(
            "Explain the DSN (endpoints, project, whether a secret key is present: it is "
            "never shown), describe the TLS connection for https, send a test event and "
            "report the server's answer: HTTP status, event id, rate limits, time taken."
        ),
    )
    parser.add_argument(
        "-E", "--environment", help="environment of the test event (default: production)"
    )
    parser.set_defaults(run=run_check)
