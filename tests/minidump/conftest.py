"""Fixtures shared by the minidump tests: the fixture dumps and a real multipart parser."""

from __future__ import annotations

import gzip
import io
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tripwire._protocol import PreparedBody

# The repository's checkout sits beside shared/ (in development and in CI).
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "minidumps"


@dataclass
class UploadedFile:
    """A file part as the server received it, read out of werkzeug's FileStorage."""

    filename: str | None
    mimetype: str
    data: bytes

    def read(self) -> bytes:
        return self.data


@dataclass
class ParsedUpload:
    """What a server sees: the form fields and files of a decoded upload."""

    form: MultiDict[str, str]
    files: dict[str, UploadedFile]
    raw: bytes

    def dump_bytes(self) -> bytes:
        return self.files["upload_file_minidump"].read()


def body_bytes(body: PreparedBody) -> bytes:
    """The bytes of a prepared body, wherever they are."""
    if isinstance(body.data, bytes):
        return body.data
    body.data.seek(0)
    return body.data.read()


def parse_multipart(raw: bytes, content_type: str) -> ParsedUpload:
    """Parse an uncompressed multipart body with werkzeug's form parser."""
    environ = EnvironBuilder(
        method="POST",
        input_stream=io.BytesIO(raw),
        content_type=content_type,
        content_length=len(raw),
    ).get_environ()
    request = Request(environ)
    try:
        files = {name: _read_file(storage) for name, storage in request.files.items()}
        return ParsedUpload(request.form, files, raw)
    finally:
        request.close()  # werkzeug spools big parts to temporary files


def _read_file(storage: FileStorage) -> UploadedFile:
    return UploadedFile(storage.filename, storage.mimetype, storage.read())


def parse_body(body: PreparedBody) -> ParsedUpload:
    """Decode (gzip when the body says so) and parse a prepared body."""
    data = body_bytes(body)
    assert body.length == len(data)
    raw = gzip.decompress(data) if body.content_encoding == "gzip" else data
    return parse_multipart(raw, body.content_type)


def minidump_platform(data: bytes) -> tuple[int, int]:
    """(platform id, thread count) read from a minidump's SystemInfo and ThreadList streams.

    A structural check of the uploaded bytes: header, stream directory, and two
    streams, all within bounds. Platform ids: 0x8201 Linux, 0x8101 macOS.
    """
    signature, _version, count, directory = struct.unpack_from("<4sIII", data, 0)
    assert signature == b"MDMP"
    streams: dict[int, tuple[int, int]] = {}
    for i in range(count):
        kind, size, rva = struct.unpack_from("<III", data, directory + 12 * i)
        assert rva + size <= len(data), "a stream points past the end of the dump"
        streams[kind] = (size, rva)
    _size, rva = streams[7]  # SystemInfoStream
    platform = struct.unpack_from("<I", data, rva + 20)[0]
    _size, rva = streams[3]  # ThreadListStream
    threads = struct.unpack_from("<I", data, rva)[0]
    return platform, threads


@pytest.fixture
def fixture_dir() -> Path:
    """The folder of the shared fixture minidumps."""
    return FIXTURES


@pytest.fixture(params=["crash_linux.dmp", "crash_macos.dmp"])
def fixture_dump(request: pytest.FixtureRequest) -> Path:
    """Each fixture minidump in turn."""
    return FIXTURES / request.param


@pytest.fixture
def encode_event() -> Callable[[dict[str, object]], bytes]:
    """The event encoder the client passes in production, minus trimming."""
    return lambda event: json.dumps(event, separators=(",", ":")).encode("utf-8")


@pytest.fixture
def parse() -> Callable[[PreparedBody], ParsedUpload]:
    """Decode and parse a prepared body the way a server would (werkzeug)."""
    return parse_body


@pytest.fixture
def parse_raw() -> Callable[[bytes, str], ParsedUpload]:
    """Parse an already decoded multipart body with werkzeug."""
    return parse_multipart


@pytest.fixture
def read_platform() -> Callable[[bytes], tuple[int, int]]:
    """Read (platform id, thread count) from minidump bytes."""
    return minidump_platform


@pytest.fixture
def make_dump(tmp_path: Path) -> Callable[..., Path]:
    """Write a dump file: ``MDMP`` + content, optionally extended sparsely to ``size``."""

    def make(name: str = "made.dmp", content: bytes = b"", size: int | None = None) -> Path:
        path = tmp_path / name
        with open(path, "wb") as f:
            f.write(b"MDMP" + content)
            if size is not None:
                f.truncate(size)
        return path

    return make
