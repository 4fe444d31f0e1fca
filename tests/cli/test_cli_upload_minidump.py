"""``tripwire upload-minidump`` against a loopback server: uploads, bad files, progress, exit codes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from cli_support import (
    FIXTURES,
    MINIDUMP_PATH,
    RUN_TIMEOUT,
    Runner,
    clean_env,
    closed_port,
    dsn_for,
    lines,
    received_uploads,
)
from pytest_httpserver import HTTPServer

LINUX = FIXTURES / "crash_linux.dmp"
MACOS = FIXTURES / "crash_macos.dmp"


def test_uploads_each_dump_with_release_tags_and_fields(
    run_cli: Runner, httpserver: HTTPServer
) -> None:
    """Each dump arrives whole with the release, environment, tags and form fields; each id is printed."""
    httpserver.expect_request(MINIDUMP_PATH, method="POST").respond_with_data("")
    proc = run_cli(
        "upload-minidump",
        str(LINUX),
        str(MACOS),
        "--dsn",
        dsn_for(httpserver),
        "--release",
        "native@2.0",
        "--environment",
        "qa",
        "--tag",
        "build=nightly",
        "--field",
        "crash_reason=SIGSEGV",
    )
    assert proc.returncode == 0, proc.stderr
    printed = lines(proc.stdout)
    uploads = received_uploads(httpserver)
    assert [u.dump for u in uploads] == [LINUX.read_bytes(), MACOS.read_bytes()]
    assert [u.filename for u in uploads] == ["crash_linux.dmp", "crash_macos.dmp"]
    for upload, line, path in zip(uploads, printed, (LINUX, MACOS)):
        event = upload.event
        assert line == f"{event['event_id']}  {path}"
        assert event["release"] == "native@2.0"
        assert event["environment"] == "qa"
        assert event["tags"] == {"build": "nightly"}
        assert upload.form["crash_reason"] == "SIGSEGV"
        assert "sentry_key=public" in upload.query


def test_prints_the_server_assigned_id(run_cli: Runner, httpserver: HTTPServer) -> None:
    """An id answered by the server (Relay's plain-text form) is the one printed."""
    theirs = "fedcba98-7654-3210-fedc-ba9876543210"
    httpserver.expect_request(MINIDUMP_PATH).respond_with_data(theirs)
    proc = run_cli("upload-minidump", str(LINUX), env={"SENTRY_DSN": dsn_for(httpserver)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [theirs.replace("-", ""), str(LINUX)]


def test_bad_files_are_reported_and_the_good_one_still_uploaded(
    run_cli: Runner, httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A file that is not a minidump and a missing one exit 6; the valid dump between them is sent."""
    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("hello")
    httpserver.expect_request(MINIDUMP_PATH).respond_with_data("")
    proc = run_cli(
        "upload-minidump",
        str(not_a_dump),
        str(LINUX),
        str(tmp_path / "gone.dmp"),
        "--dsn",
        dsn_for(httpserver),
    )
    assert proc.returncode == 6
    assert "MDMP signature" in proc.stderr
    assert "gone.dmp" in proc.stderr
    assert [u.dump for u in received_uploads(httpserver)] == [LINUX.read_bytes()]
    assert len(lines(proc.stdout)) == 1


def test_rejected_upload_exits_5(run_cli: Runner, httpserver: HTTPServer) -> None:
    """A 400 answer exits 5 and names the file."""
    httpserver.expect_request(MINIDUMP_PATH).respond_with_data("bad", status=400)
    proc = run_cli("upload-minidump", str(LINUX), "--dsn", dsn_for(httpserver))
    assert proc.returncode == 5
    assert "crash_linux.dmp not uploaded" in proc.stderr
    assert proc.stdout == ""


def test_unreachable_server_exits_4(run_cli: Runner) -> None:
    """A refused connection exits 4."""
    dsn = f"http://public@127.0.0.1:{closed_port()}/42"
    proc = run_cli("upload-minidump", str(LINUX), "--dsn", dsn)
    assert proc.returncode == 4


def _run_on_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; (exit code, stdout, terminal output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tripwire", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=clean_env(),
        cwd=cwd,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out.decode(), seen.decode(errors="replace")


def test_large_dump_shows_progress_on_a_terminal(httpserver: HTTPServer, tmp_path: Path) -> None:
    """On a terminal, a dump over 1 MB gets a status line with its size that ends in 'done'."""
    big = tmp_path / "big.dmp"
    big.write_bytes(b"MDMP" + bytes(1_500_000))
    httpserver.expect_request(MINIDUMP_PATH).respond_with_data("")
    code, out, terminal = _run_on_terminal(
        ["upload-minidump", str(big), str(LINUX), "--dsn", dsn_for(httpserver)], tmp_path
    )
    assert code == 0, terminal
    assert "big.dmp (1.4 MB): done in" in terminal
    assert "crash_linux.dmp" not in terminal  # small files need no progress line
    assert len(lines(out)) == 2


def test_no_progress_when_stderr_is_not_a_terminal(
    run_cli: Runner, httpserver: HTTPServer, tmp_path: Path
) -> None:
    """Piped, a large upload writes nothing on stderr: scripts see only the ids."""
    big = tmp_path / "big.dmp"
    big.write_bytes(b"MDMP" + bytes(1_500_000))
    httpserver.expect_request(MINIDUMP_PATH).respond_with_data("")
    proc = run_cli("upload-minidump", str(big), "--dsn", dsn_for(httpserver))
    assert proc.returncode == 0
    assert proc.stderr == ""
