"""open_dump: what is accepted as a minidump, and the errors for what is not."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tripwire._minidump import MAX_DUMP_BYTES, open_dump
from tripwire.errors import MinidumpError


def test_path_is_validated_without_reading_it_whole(fixture_dump: Path) -> None:
    """A path gives a source with the file's size, basename and bytes, read back in chunks."""
    source = open_dump(str(fixture_dump))
    expected = fixture_dump.read_bytes()
    assert source.size == len(expected)
    assert source.filename == fixture_dump.name
    assert source.path == str(fixture_dump)
    assert source.data is None
    assert b"".join(source.iter_chunks(chunk_bytes=1000)) == expected


def test_pathlike_is_accepted(fixture_dump: Path) -> None:
    """A pathlib.Path works like a string path."""
    assert open_dump(fixture_dump).path == str(fixture_dump)


def test_bytes_input(fixture_dump: Path) -> None:
    """Bytes are used as they are, with no filename of their own."""
    data = fixture_dump.read_bytes()
    source = open_dump(data)
    assert source.size == len(data)
    assert source.filename is None
    assert b"".join(source.iter_chunks(chunk_bytes=777)) == data


def test_bytearray_is_frozen_at_capture(fixture_dump: Path) -> None:
    """A bytearray changed after capture does not change what is uploaded."""
    data = bytearray(fixture_dump.read_bytes())
    source = open_dump(data)
    data[10:20] = b"x" * 10
    assert source.read_all() == fixture_dump.read_bytes()


def test_file_object_is_copied_so_the_caller_may_close_it(fixture_dump: Path) -> None:
    """A binary file object is copied at capture: closing it afterwards loses nothing."""
    with open(fixture_dump, "rb") as f:
        source = open_dump(f)
    assert source.filename == fixture_dump.name
    assert source.read_all() == fixture_dump.read_bytes()
    # Re-readable, as a retry needs.
    assert source.read_all() == fixture_dump.read_bytes()
    source.close()


def test_bytesio_input_has_no_filename(fixture_dump: Path) -> None:
    """An in-memory file object works and has no filename."""
    with open_dump(io.BytesIO(fixture_dump.read_bytes())) as source:
        assert source.filename is None
        assert source.size == fixture_dump.stat().st_size
    assert source.spool is not None and source.spool.closed


def test_bad_signature_names_the_path(tmp_path: Path) -> None:
    """A file that is not a minidump is refused with its path and the bytes found."""
    path = tmp_path / "core.elf"
    path.write_bytes(b"\x7fELF" + b"\0" * 100)
    with pytest.raises(MinidumpError, match="MDMP signature") as info:
        open_dump(path)
    assert str(path) in str(info.value)
    assert "ELF" in str(info.value)


def test_bad_signature_in_bytes_and_file_objects() -> None:
    """Bytes and file objects are checked for the signature too."""
    with pytest.raises(MinidumpError, match="MDMP signature"):
        open_dump(b"PK\x03\x04rest")
    with pytest.raises(MinidumpError, match="MDMP signature"):
        open_dump(io.BytesIO(b"PK\x03\x04rest"))


def test_empty_file_is_refused(tmp_path: Path) -> None:
    """An empty file (a crash handler that died mid-write) gives a clear error."""
    path = tmp_path / "empty.dmp"
    path.write_bytes(b"")
    with pytest.raises(MinidumpError, match=r"is empty \(0 bytes\)") as info:
        open_dump(path)
    assert str(path) in str(info.value)
    with pytest.raises(MinidumpError, match="empty"):
        open_dump(b"")
    with pytest.raises(MinidumpError, match="empty"):
        open_dump(io.BytesIO())


def test_file_over_100_mb_is_refused_with_its_size(make_dump) -> None:
    """A (sparse) file one byte over 100 MB is refused, the message showing path and size."""
    path = make_dump("huge.dmp", size=MAX_DUMP_BYTES + 1)
    with pytest.raises(MinidumpError) as info:
        open_dump(path)
    message = str(info.value)
    assert str(path) in message
    assert "104,857,601 bytes" in message
    assert "the limit is 100.0 MB" in message


def test_file_at_the_limit_is_accepted(make_dump) -> None:
    """Exactly the limit is allowed."""
    path = make_dump(size=4096)
    assert open_dump(path, max_bytes=4096).size == 4096


def test_file_object_over_the_limit_is_refused(fixture_dump: Path) -> None:
    """A file object is counted while it is copied and refused past the limit."""
    with open(fixture_dump, "rb") as f, pytest.raises(MinidumpError, match="larger than"):
        open_dump(f, max_bytes=1000)


def test_missing_file(tmp_path: Path) -> None:
    """A missing path gives a MinidumpError naming it, not an OSError."""
    path = tmp_path / "gone.dmp"
    with pytest.raises(MinidumpError, match="cannot read") as info:
        open_dump(path)
    assert str(path) in str(info.value)


def test_directory_is_refused(tmp_path: Path) -> None:
    """A directory is not a minidump."""
    with pytest.raises(MinidumpError, match="not a regular file"):
        open_dump(tmp_path)


def test_text_mode_file_is_refused(fixture_dump: Path) -> None:
    """A file opened in text mode gives a hint to open it in binary mode."""
    with open(fixture_dump, encoding="latin-1") as f, pytest.raises(MinidumpError, match="binary"):
        open_dump(f)  # type: ignore[arg-type]


def test_wrong_type_is_refused() -> None:
    """Something that is neither path, bytes nor file gives a clear error."""
    with pytest.raises(MinidumpError, match="got int"):
        open_dump(42)  # type: ignore[arg-type]


def test_file_that_grows_after_capture_is_refused_when_read(make_dump) -> None:
    """A dump still being written when uploaded is refused instead of sent truncated."""
    path = make_dump(content=b"x" * 100)
    source = open_dump(path)
    with open(path, "ab") as f:
        f.write(b"more")
    with pytest.raises(MinidumpError, match="changed size"):
        b"".join(source.iter_chunks())


def test_file_replaced_after_capture_is_refused_when_read(make_dump) -> None:
    """A file replaced by a non-minidump of the same size is refused when read."""
    path = make_dump(content=b"x" * 100)
    source = open_dump(path)
    path.write_bytes(b"ABCD" + b"x" * 100)
    with pytest.raises(MinidumpError, match="no longer starts"):
        b"".join(source.iter_chunks())
