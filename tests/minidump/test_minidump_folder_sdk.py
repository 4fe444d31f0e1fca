"""MinidumpFolderIntegration wired to the SDK: uploads through the transport, settles on the answer."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Response

import tripwire
from tripwire.integrations.minidump_folder import MinidumpFolderIntegration

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "minidumps"


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start(httpserver: HTTPServer, folder: Path) -> MinidumpFolderIntegration:
    integration = MinidumpFolderIntegration(folder, interval=0.2, min_age=0.0)
    tripwire.init(
        dsn=f"http://pub@127.0.0.1:{httpserver.port}/9",
        integrations=[integration],
        release="native@1",
    )
    return integration


def test_accepted_dump_is_deleted_and_invalid_one_moved_aside(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A dump the server accepts is deleted; a file that is no minidump goes to rejected/."""
    httpserver.expect_request("/api/9/minidump/").respond_with_json({"id": "b" * 32})
    shutil.copy(FIXTURES / "crash_linux.dmp", tmp_path / "one.dmp")
    (tmp_path / "junk.dmp").write_bytes(b"this is not a minidump")
    integration = start(httpserver, tmp_path)
    try:
        assert wait_until(lambda: not (tmp_path / "one.dmp").exists())
        assert wait_until(lambda: (tmp_path / "rejected" / "junk.dmp").exists())
        assert len(httpserver.log) == 1
        time.sleep(0.5)  # two more scans: nothing is sent again
        assert len(httpserver.log) == 1
    finally:
        integration.close()


def test_server_rejection_moves_aside_and_server_error_keeps(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A 400 answer moves the dump aside for good; a 503 keeps it for the next scan."""
    answers = iter([503, 400])

    def handler(request: object) -> Response:
        return Response("{}", status=next(answers, 400), content_type="application/json")

    httpserver.expect_request("/api/9/minidump/").respond_with_handler(handler)
    shutil.copy(FIXTURES / "crash_macos.dmp", tmp_path / "mac.dmp")
    integration = start(httpserver, tmp_path)
    try:
        assert wait_until(lambda: (tmp_path / "rejected" / "mac.dmp").exists())
        assert len(httpserver.log) == 2
        assert not (tmp_path / "mac.dmp").exists()
    finally:
        integration.close()


def test_integration_is_listed_in_sdk_integrations(httpserver: HTTPServer, tmp_path: Path) -> None:
    """The folder integration shows in the client's active integrations."""
    integration = start(httpserver, tmp_path)
    try:
        assert "minidump_folder" in tripwire.get_client().integrations
    finally:
        integration.close()
