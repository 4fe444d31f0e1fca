"""Minidumps: validating a dump, its event, the server's answer, attachment limits.

Everything here is pure logic (no sockets, no threads). :func:`open_dump` runs on
the caller's thread and only checks the dump (size, ``MDMP`` signature);
the worker later streams it in chunks, so a 100 MB dump never sits in memory.
The ``/minidump/`` request body is built by :mod:`._multipart`.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Optional, Union

from ._log import logger
from ._protocol import Attachment, Event
from .errors import MinidumpError

MIB = 1024 * 1024
# The limits a Sentry server (Relay) enforces on the /minidump/ endpoint.
MAX_DUMP_BYTES = 100 * MIB
MAX_BODY_BYTES = 100 * MIB
MAX_COMPRESSED_BYTES = 20 * MIB
MAX_EVENT_BYTES = 1 * MIB
# ...and on envelope attachments.
MAX_ATTACHMENT_BYTES = 100 * MIB
MAX_ATTACHMENTS_TOTAL_BYTES = 100 * MIB

SIGNATURE = b"MDMP"
MINIDUMP_FIELD = "upload_file_minidump"
DEFAULT_FILENAME = "minidump.dmp"
MINIDUMP_CONTENT_TYPE = "application/octet-stream"
MINIDUMP_ATTACHMENT_TYPE = "event.minidump"

CHUNK_BYTES = 256 * 1024

DumpInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


def describe_size(size: int) -> str:
    """``12.3 MB (12,345,678 bytes)``: readable and exact, for error messages."""
    return f"{size / MIB:.1f} MB ({size:,} bytes)"


@dataclass(frozen=True)
class DumpSource:
    """A validated minidump, re-readable from the start as often as needed.

    Exactly one of ``path`` (read on the worker), ``data`` (bytes given by the
    caller) and ``spool`` (a temporary copy of a caller's file object, which the
    caller may close once capture returns) is set.
    """

    size: int
    description: str
    filename: Optional[str] = None
    path: Optional[str] = None
    data: Optional[bytes] = None
    spool: Optional[IO[bytes]] = None

    def iter_chunks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        """Yield the dump in chunks; fail if a file changed since it was validated."""
        if self.data is not None:
            view = memoryview(self.data)
            for start in range(0, self.size, chunk_bytes):
                yield bytes(view[start : start + chunk_bytes])
            return
        if self.spool is not None:
            self.spool.seek(0)
            yield from _read_exactly(self.spool, self.size, chunk_bytes, self.description)
            return
        assert self.path is not None
        try:
            with open(self.path, "rb") as f:
                yield from _read_exactly(f, self.size, chunk_bytes, self.description)
        except OSError as e:
            raise MinidumpError(f"cannot read {self.description}: {e.strerror or e}") from e

    def read_all(self) -> bytes:
        """The whole dump in memory; only for the envelope form of a file-object dump."""
        if self.data is not None:
            return self.data
        return b"".join(self.iter_chunks())

    def close(self) -> None:
        """Drop the temporary copy of a file-object dump (nothing to do otherwise)."""
        if self.spool is not None:
            self.spool.close()

    def __enter__(self) -> DumpSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _read_exactly(f: IO[bytes], size: int, chunk_bytes: int, description: str) -> Iterator[bytes]:
    remaining = size
    first = True
    while remaining > 0:
        chunk = f.read(min(chunk_bytes, remaining))
        if not chunk:
            break
        if first and not chunk.startswith(SIGNATURE):
            raise MinidumpError(f"{description} no longer starts with the MDMP signature")
        first = False
        remaining -= len(chunk)
        yield chunk
    # A crash handler may still be writing, or the file was replaced: the body
    # length promised in the request must not lie.
    if remaining or f.read(1):
        raise MinidumpError(f"{description} changed size while it was being read")


def open_dump(dump: DumpInput, *, max_bytes: int = MAX_DUMP_BYTES) -> DumpSource:
    """Validate ``dump`` (a path, bytes or a binary file object) before anything is sent.

    Raises :class:`MinidumpError` when the dump is missing, empty, larger than
    ``max_bytes`` or does not start with the ``MDMP`` signature. A path is only
    opened to read its first bytes; a file object is copied, in chunks, into a
    temporary file.
    """
    if isinstance(dump, (bytes, bytearray, memoryview)):
        data = bytes(dump)
        source = DumpSource(size=len(data), description="minidump <bytes>", data=data)
        _check_size(source.size, source.description, max_bytes)
        _check_signature(data[:4], source.description)
        return source
    if isinstance(dump, (str, os.PathLike)):
        return _open_path(os.fspath(dump), max_bytes)
    if callable(getattr(dump, "read", None)):
        return _spool_file(dump, max_bytes)
    raise MinidumpError(
        f"a minidump must be a path, bytes or a binary file object, got {type(dump).__name__}"
    )


def _open_path(path: str, max_bytes: int) -> DumpSource:
    description = f"minidump {path!r}"
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise MinidumpError(f"{description} is not a regular file")
        _check_size(st.st_size, description, max_bytes)
        with open(path, "rb") as f:
            head = f.read(len(SIGNATURE))
    except OSError as e:
        raise MinidumpError(f"cannot read {description}: {e.strerror or e}") from e
    _check_signature(head, description)
    return DumpSource(
        size=st.st_size,
        description=description,
        filename=os.path.basename(path) or None,
        path=os.path.abspath(path),
    )


def _spool_file(f: IO[bytes], max_bytes: int) -> DumpSource:
    name = getattr(f, "name", None)
    description = f"minidump {name!r}" if isinstance(name, str) else "minidump <file object>"
    # Outlives this call (the DumpSource owns it), so no `with`.
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        size = 0
        head = b""
        while True:
            chunk = f.read(CHUNK_BYTES)
            if not chunk:
                break
            if not isinstance(chunk, bytes):
                raise MinidumpError(f"{description} must be opened in binary mode ('rb')")
            if size == 0:
                head = chunk[:4]
                _check_signature(head, description)
            size += len(chunk)
            if size > max_bytes:
                raise MinidumpError(
                    f"{description} is larger than the limit of {describe_size(max_bytes)}"
                )
            spool.write(chunk)
        _check_size(size, description, max_bytes)
        _check_signature(head, description)
    except BaseException:
        spool.close()
        raise
    return DumpSource(
        size=size,
        description=description,
        filename=os.path.basename(name) if isinstance(name, str) else None,
        spool=spool,
    )


def _check_size(size: int, description: str, max_bytes: int) -> None:
    if size == 0:
        raise MinidumpError(f"{description} is empty (0 bytes)")
    if size > max_bytes:
        raise MinidumpError(
            f"{description} is {describe_size(size)}; the limit is {describe_size(max_bytes)}"
        )


def _check_signature(head: bytes, description: str) -> None:
    if head[: len(SIGNATURE)] != SIGNATURE:
        raise MinidumpError(
            f"{description} does not start with the MDMP signature (found {head[:4]!r}); "
            "is it a minidump?"
        )


# --- the event that goes with the dump ---------------------------------------

_MERGED_MAPPINGS = ("tags", "extra", "contexts")


def build_minidump_event(
    scope_event: Mapping[str, object],
    event: Mapping[str, object] | None = None,
    fields: Mapping[str, object] | None = None,
) -> Event:
    """The event attributes sent with a dump.

    Starts from a fresh ``event_id``, level ``fatal`` and platform ``native``;
    then ``scope_event`` (what the client and scope know: release, tags, user,
    breadcrumbs, sdk...), then the caller's ``event``, which wins. ``tags``,
    ``extra`` and ``contexts`` are merged key by key; other keys are replaced.
    ``fields`` also go into ``extra`` so hooks and the envelope form see them.
    """
    result: Event = {"event_id": uuid.uuid4().hex, "level": "fatal", "platform": "native"}
    for layer in (scope_event, event or {}):
        for key, value in layer.items():
            old = result.get(key)
            if key in _MERGED_MAPPINGS and isinstance(old, Mapping) and isinstance(value, Mapping):
                result[key] = {**old, **value}
            else:
                result[key] = value
    if fields:
        result["extra"] = {**_as_dict(result.get("extra")), **fields}
    event_id = normalize_event_id(result["event_id"])
    if event_id is None:
        logger.warning("ignoring the invalid event_id %r of a minidump", result["event_id"])
        event_id = uuid.uuid4().hex
    result["event_id"] = event_id
    return result


def _as_dict(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, Mapping) else {}


def normalize_event_id(value: object) -> str | None:
    """32 lowercase hex digits from a UUID in any usual spelling, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower().replace("-", "")
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        return None
    return text


def parse_server_event_id(status: int, content_type: str | None, body: bytes) -> str | None:
    """The event id a server assigned to an upload, or None.

    Relay answers the id as plain text (hyphenated); Sentry and Bugsink answer
    JSON ``{"id": ...}``. Never raises.
    """
    if not 200 <= status < 300:
        return None
    text = body[:4096].decode("utf-8", "replace").strip()
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime == "application/json" or text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        if not isinstance(doc, dict):
            return None
        return normalize_event_id(doc.get("id", doc.get("event_id")))
    return normalize_event_id(text)


# --- the envelope form and generic attachments ------------------------------


def minidump_attachment(source: DumpSource, filename: str | None = None) -> Attachment:
    """The dump as an ``event.minidump`` envelope attachment (read on the worker if a path)."""
    name = filename or source.filename or DEFAULT_FILENAME
    return Attachment(
        filename=name,
        path=source.path,
        bytes=None if source.path is not None else source.read_all(),
        content_type=MINIDUMP_CONTENT_TYPE,
        attachment_type=MINIDUMP_ATTACHMENT_TYPE,
    )


def attachment_size(attachment: Attachment) -> int:
    """The size in bytes of an attachment's content (a stat for a path)."""
    if attachment.bytes is not None:
        return len(attachment.bytes)
    assert attachment.path is not None
    try:
        return os.stat(attachment.path).st_size
    except OSError as e:
        raise MinidumpError(f"cannot read attachment {attachment.path!r}: {e.strerror or e}") from e


def check_attachment_size(attachment: Attachment, *, max_bytes: int = MAX_ATTACHMENT_BYTES) -> int:
    """Return the attachment's size; raise :class:`MinidumpError` above ``max_bytes``."""
    size = attachment_size(attachment)
    if size > max_bytes:
        where = f" ({attachment.path!r})" if attachment.path else ""
        raise MinidumpError(
            f"attachment {attachment.filename!r}{where} is {describe_size(size)}; "
            f"the limit is {describe_size(max_bytes)}"
        )
    return size


def check_attachments_size(
    attachments: Iterable[Attachment],
    *,
    max_bytes: int = MAX_ATTACHMENT_BYTES,
    max_total_bytes: int = MAX_ATTACHMENTS_TOTAL_BYTES,
) -> int:
    """Check each attachment and their sum (the limits of one envelope); return the sum."""
    total = sum(check_attachment_size(a, max_bytes=max_bytes) for a in attachments)
    if total > max_total_bytes:
        raise MinidumpError(
            f"the attachments of one event add up to {describe_size(total)}; "
            f"the limit is {describe_size(max_total_bytes)}"
        )
    return total
