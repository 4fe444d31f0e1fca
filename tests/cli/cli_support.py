"""Helpers of the command-line tests: the environment, DSNs, and what the loopback server received."""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pytest_httpserver import HTTPServer
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tripwire._envelope import Envelope

# The repository's checkout sits beside shared/ (in development and in CI).
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "minidumps"

SECRET = "s3cr3tkey0123456789"
PROJECT = "42"
RUN_TIMEOUT = 60.0

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without SENTRY_* or proxy variables, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith("SENTRY_") and "PROXY" not in key.upper()
    }
    env.update(extra)
    return env


def dsn_for(server: HTTPServer, *, secret: bool = False, scheme: str = "http") -> str:
    key = f"public:{SECRET}" if secret else "public"
    return f"{scheme}://{key}@127.0.0.1:{server.port}/{PROJECT}"


ENVELOPE_PATH = f"/api/{PROJECT}/envelope/"
MINIDUMP_PATH = f"/api/{PROJECT}/minidump/"


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def body_of(request: Request) -> bytes:
    data = request.get_data()
    if request.headers.get("Content-Encoding") == "gzip":
        return gzip.decompress(data)
    return data


def received_envelopes(server: HTTPServer) -> list[Envelope]:
    """Every envelope the server received, decompressed and parsed."""
    return [
        Envelope.parse(body_of(request))
        for request, _ in server.log
        if request.path == ENVELOPE_PATH
    ]


@dataclass
class Upload:
    """A minidump upload as the server received it."""

    form: MultiDict[str, str]
    dump: bytes
    filename: str | None
    query: str

    @property
    def event(self) -> dict[str, object]:
        value = json.loads(self.form["sentry"])
        assert isinstance(value, dict)
        return value


def received_uploads(server: HTTPServer) -> list[Upload]:
    """Every ``/minidump/`` upload, gunzipped and parsed by werkzeug's form parser."""
    uploads = []
    for request, _ in server.log:
        if request.path != MINIDUMP_PATH:
            continue
        raw = body_of(request)
        environ = EnvironBuilder(
            method="POST",
            input_stream=io.BytesIO(raw),
            content_type=request.headers["Content-Type"],
            content_length=len(raw),
        ).get_environ()
        parsed = Request(environ)
        try:
            storage = parsed.files["upload_file_minidump"]
            uploads.append(
                Upload(
                    MultiDict(parsed.form),
                    storage.read(),
                    storage.filename,
                    request.query_string.decode(),
                )
            )
        finally:
            parsed.close()
    return uploads


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text


def lines(text: str) -> Sequence[str]:
    return [line for line in text.splitlines() if line.strip()]
