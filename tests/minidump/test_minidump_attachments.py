"""The envelope form of a dump and the size rules of attachments."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tripwire._minidump import (
    MAX_ATTACHMENT_BYTES,
    check_attachment_size,
    check_attachments_size,
    minidump_attachment,
    open_dump,
)
from tripwire._protocol import Attachment
from tripwire.errors import MinidumpError


def test_path_dump_becomes_a_path_attachment(fixture_dump: Path) -> None:
    """A dump given by path stays a path, read later on the worker."""
    attachment = minidump_attachment(open_dump(fixture_dump))
    assert attachment.attachment_type == "event.minidump"
    assert attachment.path == str(fixture_dump)
    assert attachment.bytes is None
    assert attachment.filename == fixture_dump.name
    assert attachment.content_type == "application/octet-stream"


def test_bytes_and_file_dumps_become_bytes_attachments(fixture_dump: Path) -> None:
    """Bytes and file objects become bytes attachments named minidump.dmp unless told otherwise."""
    data = fixture_dump.read_bytes()
    from_bytes = minidump_attachment(open_dump(data))
    assert from_bytes.bytes == data
    assert from_bytes.filename == "minidump.dmp"
    with open_dump(io.BytesIO(data)) as source:
        from_file = minidump_attachment(source, filename="game.dmp")
    assert from_file.bytes == data
    assert from_file.filename == "game.dmp"


def test_attachment_size_limits(tmp_path: Path) -> None:
    """Each attachment may be 100 MB; a sparse file one byte larger is refused with its size."""
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.truncate(MAX_ATTACHMENT_BYTES + 1)
    with pytest.raises(MinidumpError, match="104,857,601 bytes") as info:
        check_attachment_size(Attachment(filename="big.bin", path=str(path)))
    assert str(path) in str(info.value)
    assert check_attachment_size(Attachment(filename="a.txt", bytes=b"hello")) == 5


def test_attachments_total_limit() -> None:
    """The attachments of one event are also limited together."""
    items = [Attachment(filename=f"{i}.txt", bytes=b"x" * 60) for i in range(2)]
    assert check_attachments_size(items, max_total_bytes=120) == 120
    with pytest.raises(MinidumpError, match="add up to"):
        check_attachments_size(items, max_total_bytes=119)


def test_missing_attachment_file(tmp_path: Path) -> None:
    """An attachment whose file is gone gives a MinidumpError naming it."""
    with pytest.raises(MinidumpError, match="cannot read attachment"):
        check_attachment_size(Attachment(filename="x", path=str(tmp_path / "gone")))
