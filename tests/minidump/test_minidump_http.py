"""The built body POSTed to a real loopback server that parses it with werkzeug."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest
import urllib3
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from tripwire._minidump import build_minidump_event, open_dump, parse_server_event_id
from tripwire._multipart import build_multipart_upload
from tripwire._protocol import PreparedBody
from tripwire.integrations.minidump_folder import CrashFolder, Outcome, outcome_for_status

PATH = "/api/1/minidump/"
SERVER_ID = "0123abcd-0123-4567-89ab-0123456789ab"


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """Keep the test server on IPv4 loopback."""
    return ("127.0.0.1", 0)


def post(server: HTTPServer, body: PreparedBody) -> urllib3.BaseHTTPResponse:
    headers = {"Content-Type": body.content_type, "Content-Length": str(body.length)}
    if body.content_encoding:
        headers["Content-Encoding"] = body.content_encoding
    with urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=30)) as pool:
        try:
            return pool.request(
                "POST",
                server.url_for(PATH) + "?sentry_key=public",
                body=body.data,
                headers=headers,
            )
        finally:
            body.cleanup()


def relay_like(received: list[dict[str, object]], parse_raw):
    """A handler that decodes gzip explicitly, parses the form, and answers an id as text."""

    def handle(request: Request) -> Response:
        raw = request.get_data()
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        upload = parse_raw(raw, request.headers["Content-Type"])
        received.append(
            {
                "form": upload.form.to_dict(),
                "file": upload.files["upload_file_minidump"],
                "data": upload.dump_bytes(),
                "query": request.args.to_dict(),
            }
        )
        return Response(SERVER_ID, content_type="text/plain")

    return handle


def test_upload_reaches_a_real_server(
    httpserver: HTTPServer, fixture_dump: Path, parse_raw, encode_event, read_platform
) -> None:
    """A gzip body POSTed over loopback is parsed by werkzeug into the same fields, event and dump."""
    received: list[dict[str, object]] = []
    httpserver.expect_request(PATH, method="POST").respond_with_handler(
        relay_like(received, parse_raw)
    )
    event = build_minidump_event(
        {"release": "app@1.2.3", "tags": {"mytag": "value"}}, None, {"custom_field": "v"}
    )
    body = build_multipart_upload(
        open_dump(fixture_dump), event, encode_event=encode_event, fields={"custom_field": "v"}
    )
    response = post(httpserver, body)

    assert response.status == 200
    assert parse_server_event_id(
        response.status, response.headers.get("Content-Type"), response.data
    ) == SERVER_ID.replace("-", "")
    (got,) = received
    assert got["query"] == {"sentry_key": "public"}
    assert got["form"]["custom_field"] == "v"  # type: ignore[index]
    sent_event = json.loads(got["form"]["sentry"])  # type: ignore[index]
    assert sent_event["release"] == "app@1.2.3"
    assert sent_event["tags"] == {"mytag": "value"}
    assert sent_event["level"] == "fatal"
    assert got["file"].filename == fixture_dump.name  # type: ignore[attr-defined]
    assert got["file"].mimetype == "application/octet-stream"  # type: ignore[attr-defined]
    assert got["data"] == fixture_dump.read_bytes()
    assert read_platform(got["data"])[1] >= 1  # type: ignore[arg-type]


def test_bracket_upload_reaches_a_real_server(
    httpserver: HTTPServer, fixture_dump: Path, parse_raw, encode_event
) -> None:
    """Bracket fields survive the trip through a real server's form parser."""
    received: list[dict[str, object]] = []
    httpserver.expect_request(PATH, method="POST").respond_with_handler(
        relay_like(received, parse_raw)
    )
    event = {"release": "app@1", "tags": {"mytag": "value"}, "user": {"id": "7"}}
    body = build_multipart_upload(
        open_dump(fixture_dump), event, encode_event=encode_event, bracket_fields=True
    )
    assert post(httpserver, body).status == 200
    (got,) = received
    assert got["form"] == {
        "sentry[release]": "app@1",
        "sentry[tags][mytag]": "value",
        "sentry[user][id]": "7",
    }
    assert got["data"] == fixture_dump.read_bytes()


def test_file_backed_body_streams_to_the_server(
    httpserver: HTTPServer, make_dump, parse_raw, encode_event
) -> None:
    """A body too big for memory is sent from its temporary file and arrives whole."""
    path = make_dump("large.dmp", content=os.urandom(2 * 1024 * 1024))
    received: list[dict[str, object]] = []
    httpserver.expect_request(PATH, method="POST").respond_with_handler(
        relay_like(received, parse_raw)
    )
    body = build_multipart_upload(open_dump(path), {}, encode_event=encode_event)
    assert not isinstance(body.data, bytes)
    assert post(httpserver, body).status == 200
    assert received[0]["data"] == path.read_bytes()


def test_bugsink_style_json_answer(
    httpserver: HTTPServer, fixture_dump: Path, encode_event
) -> None:
    """A server answering JSON with its own fresh id is read back as that id."""
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        {"id": "fedcba9876543210fedcba9876543210"}
    )
    body = build_multipart_upload(open_dump(fixture_dump), {}, encode_event=encode_event)
    response = post(httpserver, body)
    assert (
        parse_server_event_id(response.status, response.headers.get("Content-Type"), response.data)
        == "fedcba9876543210fedcba9876543210"
    )


def test_crash_folder_over_a_real_server(
    httpserver: HTTPServer,
    tmp_path: Path,
    fixture_dir: Path,
    parse_raw,
    encode_event,
    read_platform,
) -> None:
    """A folder of one good and one corrupt dump: the good one is deleted, the corrupt one moved aside."""
    folder = tmp_path / "crashes"
    folder.mkdir()
    good = folder / "good.dmp"
    good.write_bytes((fixture_dir / "crash_macos.dmp").read_bytes())
    corrupt = folder / "corrupt.dmp"
    corrupt.write_bytes(b"MDMP" + b"\xff" * 8)

    def server(request: Request) -> Response:
        upload = parse_raw(gzip.decompress(request.get_data()), request.headers["Content-Type"])
        try:
            read_platform(upload.dump_bytes())
        except Exception:
            return Response('{"detail": "invalid minidump"}', status=400)
        return Response(SERVER_ID, content_type="text/plain")

    httpserver.expect_request(PATH, method="POST").respond_with_handler(server)

    def upload(path: str) -> Outcome:
        body = build_multipart_upload(open_dump(path), {}, encode_event=encode_event)
        return outcome_for_status(post(httpserver, body).status)

    crash_folder = CrashFolder(folder, upload, min_age=0.0)
    assert len(crash_folder.scan(time.time() + 60)) == 2
    assert sorted(p.name for p in folder.iterdir()) == ["rejected"]
    assert [p.name for p in (folder / "rejected").iterdir()] == ["corrupt.dmp"]
    assert crash_folder.scan(time.time() + 60) == []
