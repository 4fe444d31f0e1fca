"""tripwire.capture_minidump end to end over loopback HTTP: body, context, ids, limits."""

from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

import tripwire
from tripwire._envelope import Envelope

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "minidumps"

LINUX = FIXTURES / "crash_linux.dmp"
MACOS = FIXTURES / "crash_macos.dmp"
SERVER_ID = "a" * 32


def _parse(request: Request) -> Request:
    """Decode the gzip body and parse the multipart form as a server would."""
    assert request.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(request.get_data())
    builder = EnvironBuilder(
        method="POST",
        data=body,
        content_type=request.headers["Content-Type"],
        headers={"Content-Length": str(len(body))},
    )
    return Request(builder.get_environ())


def _init(httpserver: HTTPServer, **options: Any) -> None:
    port = httpserver.port
    tripwire.init(
        dsn=f"http://pub@127.0.0.1:{port}/5",
        release="native-app@2.0",
        environment="qa",
        default_integrations=False,
        **options,
    )


def test_minidump_upload_carries_dump_and_scope(httpserver: HTTPServer) -> None:
    """The dump, the scope's release/tags/user and the extra fields reach /minidump/."""
    httpserver.expect_request("/api/5/minidump/", method="POST").respond_with_json(
        {"id": SERVER_ID}
    )
    _init(httpserver)
    tripwire.set_tag("engine", "physics")
    tripwire.set_user({"id": "u-7"})
    tripwire.add_breadcrumb(message="loaded level 3")
    event_id = tripwire.capture_minidump(
        str(LINUX), fields={"build": "nightly"}, event={"tags": {"gpu": "none"}}
    )
    assert event_id is not None and re.fullmatch(r"[0-9a-f]{32}", event_id)
    result = tripwire.flush(5)
    assert result is not None and result.sent == 1
    ((request, _response),) = httpserver.log
    assert request.args["sentry_key"] == "pub"
    form = _parse(request)
    upload = form.files["upload_file_minidump"]
    assert upload.filename == "crash_linux.dmp"
    assert upload.read() == LINUX.read_bytes()
    assert form.form["build"] == "nightly"
    sentry = json.loads(form.form["sentry"])
    assert sentry["release"] == "native-app@2.0"
    assert sentry["environment"] == "qa"
    assert sentry["platform"] == "native"
    assert sentry["level"] == "fatal"
    assert sentry["tags"] == {"engine": "physics", "gpu": "none"}
    assert sentry["user"]["id"] == "u-7"
    assert sentry["breadcrumbs"]["values"][0]["message"] == "loaded level 3"
    assert sentry["event_id"] == event_id
    # The server assigned its own id; after the flush last_event_id() reports it.
    assert tripwire.last_event_id() == SERVER_ID


@pytest.mark.parametrize("fixture", [LINUX, MACOS], ids=["linux", "macos"])
def test_uploaded_bytes_process_with_symbolic(httpserver: HTTPServer, fixture: Any) -> None:
    """symbolic (Sentry's minidump processor) reads the bytes the server received."""
    from symbolic.minidump import ProcessState

    httpserver.expect_request("/api/5/minidump/").respond_with_json({"id": SERVER_ID})
    _init(httpserver)
    with open(fixture, "rb") as handle:
        assert tripwire.capture_minidump(handle) is not None
    assert tripwire.flush(5)
    ((request, _response),) = httpserver.log
    data = _parse(request).files["upload_file_minidump"].read()
    state = ProcessState.from_minidump_buffer(data)
    assert state.crashed
    assert state.thread_count >= 1
    assert state.requesting_thread >= 0


def test_bracket_fields_option(httpserver: HTTPServer) -> None:
    """minidump_bracket_fields writes the event as sentry[...] form fields."""
    httpserver.expect_request("/api/5/minidump/").respond_with_json({"id": SERVER_ID})
    _init(httpserver, minidump_bracket_fields=True)
    tripwire.set_tag("mytag", "value")
    assert tripwire.capture_minidump(LINUX.read_bytes()) is not None
    assert tripwire.flush(5)
    ((request, _response),) = httpserver.log
    form = _parse(request).form
    assert form["sentry[release]"] == "native-app@2.0"
    assert form["sentry[tags][mytag]"] == "value"


def test_envelope_form_sends_an_event_minidump_attachment(httpserver: HTTPServer) -> None:
    """minidump_as_envelope sends the dump as an event.minidump item beside its event."""
    httpserver.expect_request("/api/5/envelope/").respond_with_json({"id": "x"})
    _init(httpserver, minidump_as_envelope=True)
    event_id = tripwire.capture_minidump(str(MACOS))
    assert tripwire.flush(5)
    ((request, _response),) = httpserver.log
    envelope = Envelope.parse(gzip.decompress(request.get_data()))
    kinds = {item.headers["type"]: item for item in envelope.items}
    assert kinds["event"].headers.get("type") == "event"
    attachment = kinds["attachment"]
    assert attachment.headers["attachment_type"] == "event.minidump"
    assert attachment.headers["filename"] == "crash_macos.dmp"
    assert attachment.payload == MACOS.read_bytes()
    assert envelope.event()["event_id"] == event_id


def test_bad_signature_is_logged_and_nothing_sent(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A file without the MDMP signature returns None with a clear log line."""
    _init(httpserver)
    caplog.set_level(logging.ERROR, logger="tripwire")
    assert tripwire.capture_minidump(b"ELF not a minidump at all") is None
    assert any("MDMP" in r.getMessage() for r in caplog.records)
    assert tripwire.flush(2)
    assert httpserver.log == []


def test_rate_limited_minidumps_are_not_sent(httpserver: HTTPServer) -> None:
    """After a 429 for the attachment category, later uploads make no request."""
    httpserver.expect_request("/api/5/minidump/").respond_with_response(
        Response(status=429, headers={"X-Sentry-Rate-Limits": "60:attachment:key"})
    )
    _init(httpserver)
    tripwire.capture_minidump(str(LINUX))
    assert tripwire.flush(5)
    assert len(httpserver.log) == 1
    assert tripwire.capture_minidump(str(LINUX)) is None
    assert tripwire.flush(2)
    assert len(httpserver.log) == 1


def test_disabled_sdk_ignores_minidumps() -> None:
    """Without a DSN capture_minidump is a no-op returning None."""
    tripwire.init(dsn=None)
    assert tripwire.capture_minidump(str(LINUX)) is None
