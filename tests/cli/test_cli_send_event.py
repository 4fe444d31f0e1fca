"""``tripwire send-event`` against a loopback server: what is sent, what is printed, exit codes."""

from __future__ import annotations

import re
import socket
from datetime import datetime, timezone
from pathlib import Path

from cli_support import (
    ENVELOPE_PATH,
    Runner,
    assert_no_secret,
    closed_port,
    dsn_for,
    received_envelopes,
)
from pytest_httpserver import HTTPServer

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def test_sends_message_with_tags_extra_release_user(
    run_cli: Runner, httpserver: HTTPServer
) -> None:
    """The event carries the message, level, tags, extra, release, environment and user; its id is printed."""
    httpserver.expect_request(ENVELOPE_PATH, method="POST").respond_with_json({})
    proc = run_cli(
        "send-event",
        "--dsn",
        dsn_for(httpserver),
        "-m",
        "backup failed",
        "--level",
        "warning",
        "--tag",
        "job=backup",
        "--tag",
        "host:db1",
        "--extra",
        "size=12 GB",
        "--release",
        "app@1.2.3",
        "--environment",
        "staging",
        "--user-id",
        "u-77",
    )
    assert proc.returncode == 0, proc.stderr
    event_id = proc.stdout.strip()
    assert HEX32.match(event_id)
    (envelope,) = received_envelopes(httpserver)
    event = envelope.event()
    assert event is not None
    assert event["event_id"] == event_id
    assert event["logentry"] == {"formatted": "backup failed"}
    assert event["level"] == "warning"
    assert event["tags"] == {"job": "backup", "host": "db1"}
    assert event["extra"] == {"size": "12 GB"}
    assert event["release"] == "app@1.2.3"
    assert event["environment"] == "staging"
    assert event["user"] == {"id": "u-77"}


def test_prints_the_server_assigned_id(run_cli: Runner, httpserver: HTTPServer) -> None:
    """When the server answers with its own event id, that id is printed."""
    theirs = "0123456789abcdef0123456789abcdef"
    httpserver.expect_request(ENVELOPE_PATH, method="POST").respond_with_json({"id": theirs})
    proc = run_cli("send-event", "-m", "hi", env={"SENTRY_DSN": dsn_for(httpserver)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == theirs


def test_logfile_tail_becomes_breadcrumbs(
    run_cli: Runner, httpserver: HTTPServer, tmp_path: Path
) -> None:
    """--logfile attaches the last --logfile-lines lines, with level and time read from each."""
    log = tmp_path / "app.log"
    log.write_text(
        "".join(f"2024-05-01 10:00:{i:02d},250 INFO step {i}\n" for i in range(10))
        + "2024-05-01T10:00:30Z ERROR disk full\n"
    )
    httpserver.expect_request(ENVELOPE_PATH, method="POST").respond_with_json({})
    proc = run_cli(
        "send-event",
        "--dsn",
        dsn_for(httpserver),
        "-m",
        "job failed",
        "--logfile",
        str(log),
        "--logfile-lines",
        "3",
    )
    assert proc.returncode == 0, proc.stderr
    event = received_envelopes(httpserver)[0].event()
    assert event is not None
    crumbs = event["breadcrumbs"]["values"]  # type: ignore[index]
    assert [c["message"] for c in crumbs] == [
        "2024-05-01 10:00:08,250 INFO step 8",
        "2024-05-01 10:00:09,250 INFO step 9",
        "2024-05-01T10:00:30Z ERROR disk full",
    ]
    assert [c["level"] for c in crumbs] == ["info", "info", "error"]
    assert all(c["category"] == "log" for c in crumbs)
    # A zone-less time is local time, as the log's writer meant it.
    assert crumbs[0]["timestamp"] == datetime(2024, 5, 1, 10, 0, 8, 250000).timestamp()
    assert (
        crumbs[2]["timestamp"] == datetime(2024, 5, 1, 10, 0, 30, tzinfo=timezone.utc).timestamp()
    )


def test_missing_logfile_is_a_bad_file(run_cli: Runner, httpserver: HTTPServer) -> None:
    """A --logfile that cannot be read exits 6 and sends nothing."""
    proc = run_cli("send-event", "--dsn", dsn_for(httpserver), "-m", "x", "--logfile", "nope.log")
    assert proc.returncode == 6
    assert "nope.log" in proc.stderr
    assert received_envelopes(httpserver) == []


def test_rejected_event_exits_5(run_cli: Runner, httpserver: HTTPServer) -> None:
    """A 400 answer exits 5, prints no id, and gives the server's reason even without --debug."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json(
        {"detail": "malformed envelope"}, status=400
    )
    proc = run_cli("send-event", "--dsn", dsn_for(httpserver), "-m", "x")
    assert proc.returncode == 5
    assert proc.stdout == ""
    assert "HTTP 400" in proc.stderr
    assert "malformed envelope" in proc.stderr


def test_rate_limited_event_exits_5(run_cli: Runner, httpserver: HTTPServer) -> None:
    """A 429 answer exits 5 and says the event was rate limited."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_data(
        "", status=429, headers={"Retry-After": "60"}
    )
    proc = run_cli("send-event", "--dsn", dsn_for(httpserver), "-m", "x")
    assert proc.returncode == 5
    assert "rate limited" in proc.stderr


def test_unreachable_server_exits_4(run_cli: Runner) -> None:
    """A refused connection exits 4."""
    dsn = f"http://public:s3cr3tkey0123456789@127.0.0.1:{closed_port()}/42"
    proc = run_cli("send-event", "--dsn", dsn, "-m", "x")
    assert proc.returncode == 4
    assert "could not reach" in proc.stderr
    assert "Connection refused" in proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)


def test_no_dsn_exits_3(run_cli: Runner) -> None:
    """Without --dsn or SENTRY_DSN the command exits 3 and says where a DSN comes from."""
    proc = run_cli("send-event", "-m", "x")
    assert proc.returncode == 3
    assert "SENTRY_DSN" in proc.stderr


def test_bad_dsn_exits_3_without_the_secret(run_cli: Runner) -> None:
    """An unparseable DSN exits 3, and its secret appears nowhere in the output."""
    proc = run_cli("send-event", "-m", "x", env={"SENTRY_DSN": "ftp://pub:s3cr3tkey0123456789@h/1"})
    assert proc.returncode == 3
    assert "scheme" in proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)


def test_malformed_tag_exits_2(run_cli: Runner, httpserver: HTTPServer) -> None:
    """A --tag without a separator is a usage error (exit 2)."""
    proc = run_cli("send-event", "--dsn", dsn_for(httpserver), "-m", "x", "--tag", "novalue")
    assert proc.returncode == 2
    assert "--tag" in proc.stderr


def test_debug_shows_the_sdk_log_without_the_secret(
    run_cli: Runner, httpserver: HTTPServer
) -> None:
    """--debug prints the SDK's log on stderr; the DSN's secret stays out of it."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json({"detail": "nope"}, status=403)
    proc = run_cli("--debug", "send-event", "--dsn", dsn_for(httpserver, secret=True), "-m", "x")
    assert proc.returncode == 5
    assert "[tripwire] WARNING:" in proc.stderr
    assert "HTTP 403: nope" in proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)


def test_no_answer_within_the_timeout_exits_4(run_cli: Runner) -> None:
    """A server that accepts the connection but never answers exits 4 once --timeout passes."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # the kernel accepts connections; nobody answers them
        dsn = f"http://public@127.0.0.1:{listener.getsockname()[1]}/42"
        proc = run_cli("send-event", "--dsn", dsn, "-m", "x", "--timeout", "0.3")
    assert proc.returncode == 4
    assert "within the timeout" in proc.stderr
