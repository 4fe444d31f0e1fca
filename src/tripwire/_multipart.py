"""The ``/minidump/`` upload: a ``multipart/form-data`` body, compressed, in chunks.

:func:`build_multipart_upload` runs on the worker; it streams the dump through
gzip into a temporary file, within the server's size limits.

Also the flattening of an event into ``sentry[key][key]`` form fields, the
"bracket syntax" that Sentry's minidump endpoint (Relay) and Bugsink accept.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from typing import IO, Callable

from ._minidump import (
    DEFAULT_FILENAME,
    MAX_BODY_BYTES,
    MAX_COMPRESSED_BYTES,
    MAX_EVENT_BYTES,
    MINIDUMP_CONTENT_TYPE,
    MINIDUMP_FIELD,
    DumpSource,
    describe_size,
)
from ._protocol import Event, PreparedBody
from .errors import MinidumpError

# Bodies up to this size are handed to the transport as bytes; larger ones stay
# in a temporary file on disk.
SPOOL_BYTES = 1024 * 1024

_BOUNDARY_ATTEMPTS = 3

# Relay ignores `sentry[...]` fields with more keys than this.
MAX_BRACKET_DEPTH = 7

# Characters that would end a quoted header parameter or a line, or that Relay
# and Bugsink read as bracket delimiters.
_UNSAFE_IN_QUOTES = frozenset('"\\\r\n\0')
_UNSAFE_IN_BRACKETS = _UNSAFE_IN_QUOTES | {"[", "]"}


class BoundaryCollision(Exception):
    """The content holds the boundary; the body must be rebuilt with another one."""


def new_boundary() -> str:
    """A random boundary: 128 bits make a collision with the content a non-event."""
    return "tripwire-" + secrets.token_hex(16)


def sanitize_filename(name: str) -> str:
    """``name`` with characters that would break the quoted ``filename=`` replaced by ``_``."""
    return "".join(
        "_" if c in _UNSAFE_IN_QUOTES or ord(c) < 32 or ord(c) == 127 else c for c in name
    )


def _part_header(
    boundary: str, name: str, filename: str | None = None, content_type: str | None = None
) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    lines = [f"--{boundary}", disposition]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


class MultipartWriter:
    """Streams parts into a (gzip-compressed) temporary file.

    Content is checked for the boundary as it passes; a hit raises
    :class:`BoundaryCollision` so the caller can start over with a new one.
    """

    def __init__(
        self,
        boundary: str,
        *,
        compression_level: int,
        max_body_bytes: int,
        max_compressed_bytes: int,
        description: str,
    ) -> None:
        self.boundary = boundary
        self._marker = boundary.encode("ascii")
        self._tail = b""
        self._max_body = max_body_bytes
        self._max_compressed = max_compressed_bytes
        self._description = description
        # wbits 16+MAX_WBITS: a gzip container, which Content-Encoding: gzip means.
        self._compressor = (
            zlib.compressobj(compression_level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            if compression_level
            else None
        )
        # Handed to the transport by finish(), which closes it through cleanup.
        self._out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self._raw = 0
        self._written = 0

    def check_length(
        self,
        form: Iterable[tuple[str, str]],
        file_field: str,
        filename: str,
        content_type: str,
        file_size: int,
    ) -> int:
        """The exact uncompressed body length; raises before any work if it is too long."""
        total = len(self._closing())
        for name, value in form:
            total += len(_part_header(self.boundary, name)) + len(value.encode("utf-8")) + 2
        total += len(_part_header(self.boundary, file_field, filename, content_type))
        total += file_size + 2
        if total > self._max_body:
            raise MinidumpError(
                f"the upload of {self._description} would be {describe_size(total)} before "
                f"compression; the limit is {describe_size(self._max_body)}"
            )
        return total

    def field(self, name: str, value: str) -> None:
        """A plain form field."""
        self._emit(_part_header(self.boundary, name))
        self._content(value.encode("utf-8"), first=True)
        self._emit(b"\r\n")

    def file(self, name: str, filename: str, content_type: str, chunks: Iterable[bytes]) -> None:
        """A file part whose content arrives in chunks."""
        self._emit(_part_header(self.boundary, name, filename, content_type))
        first = True
        for chunk in chunks:
            self._content(chunk, first=first)
            first = False
        self._emit(b"\r\n")

    def finish(self) -> PreparedBody:
        """Close the body and hand it over: bytes when small, else the rewound temp file."""
        self._emit(self._closing())
        if self._compressor is not None:
            self._put(self._compressor.flush())
        if self._raw > self._max_body:
            raise MinidumpError(
                f"the upload of {self._description} grew to {describe_size(self._raw)}; "
                f"the limit is {describe_size(self._max_body)}"
            )
        content_type = f"multipart/form-data; boundary={self.boundary}"
        encoding = "gzip" if self._compressor is not None else None
        out = self._out
        out.seek(0)
        if self._written <= SPOOL_BYTES:
            data = out.read()
            out.close()
            return PreparedBody(data, len(data), content_type, encoding)
        return PreparedBody(out, self._written, content_type, encoding, cleanup=out.close)

    def close(self) -> None:
        """Drop the temporary file (after an error)."""
        self._out.close()

    def _closing(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode("ascii")

    def _content(self, data: bytes, *, first: bool) -> None:
        if first:
            self._tail = b""
        window = self._tail + data
        if self._marker in window:
            raise BoundaryCollision(self.boundary)
        self._tail = window[-(len(self._marker) - 1) :]
        self._emit(data)

    def _emit(self, data: bytes) -> None:
        self._raw += len(data)
        self._put(self._compressor.compress(data) if self._compressor is not None else data)

    def _put(self, data: bytes) -> None:
        if not data:
            return
        self._out.write(data)
        self._written += len(data)
        if self._compressor is not None and self._written > self._max_compressed:
            raise MinidumpError(
                f"the upload of {self._description} compresses to more than "
                f"{describe_size(self._max_compressed)}, the limit for a compressed request"
            )


def build_multipart_upload(
    source: DumpSource,
    event: Event,
    *,
    encode_event: Callable[[Event], bytes],
    fields: Mapping[str, object] | None = None,
    filename: str | None = None,
    bracket_fields: bool = False,
    compression_level: int = 6,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_compressed_bytes: int = MAX_COMPRESSED_BYTES,
    max_event_bytes: int = MAX_EVENT_BYTES,
    make_boundary: Callable[[], str] = new_boundary,
) -> PreparedBody:
    """Build the ``multipart/form-data`` body of a ``/minidump/`` upload.

    Parts, in order: each of ``fields`` as a plain form field, the event (one
    ``sentry`` JSON field, or ``sentry[...]`` bracket fields), and the dump in
    ``upload_file_minidump``. The body is gzip-compressed unless
    ``compression_level`` is 0, written in chunks to a temporary file. Raises
    :class:`MinidumpError` when a server limit would be exceeded.
    """
    encoded = encode_event(event)
    if len(encoded) > max_event_bytes:
        raise MinidumpError(
            f"the event sent with {source.description} is {describe_size(len(encoded))} of "
            f"JSON; the limit is {describe_size(max_event_bytes)}"
        )
    form: list[tuple[str, str]] = [
        (name, _field_value(value)) for name, value in (fields or {}).items()
    ]
    for name, _ in form:
        _check_field_name(name)
    if bracket_fields:
        flat, rest = flatten_brackets(json.loads(encoded))
        form.extend(flat)
        if rest:
            form.append(("sentry", json.dumps(rest, separators=(",", ":"), ensure_ascii=False)))
    else:
        form.append(("sentry", encoded.decode("utf-8", "replace")))
    dump_name = sanitize_filename(filename or source.filename or DEFAULT_FILENAME)

    for _ in range(_BOUNDARY_ATTEMPTS):
        writer = MultipartWriter(
            make_boundary(),
            compression_level=compression_level,
            max_body_bytes=max_body_bytes,
            max_compressed_bytes=max_compressed_bytes,
            description=source.description,
        )
        try:
            writer.check_length(form, MINIDUMP_FIELD, dump_name, MINIDUMP_CONTENT_TYPE, source.size)
            for name, value in form:
                writer.field(name, value)
            writer.file(MINIDUMP_FIELD, dump_name, MINIDUMP_CONTENT_TYPE, source.iter_chunks())
            return writer.finish()
        except BoundaryCollision:
            writer.close()
            continue
        except BaseException:
            writer.close()
            raise
    raise MinidumpError(f"could not find a multipart boundary absent from {source.description}")


def _field_value(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _check_field_name(name: object) -> None:
    if not isinstance(name, str):
        raise MinidumpError(f"form field names must be strings, got {name!r}")
    if name == "sentry" or name.startswith(("sentry[", "sentry__")) or name == MINIDUMP_FIELD:
        raise MinidumpError(f"form field name {name!r} is reserved for the event and the dump")
    if any(c in name for c in '"\\\r\n\0'):
        raise MinidumpError(f"form field name {name!r} cannot be sent in a multipart form")


# --- bracket syntax -------------------------------------------------------------


def flatten_brackets(
    event: Mapping[str, object],
) -> tuple[list[tuple[str, str]], dict[str, object]]:
    """Split ``event`` into ``sentry[a][b]`` fields and what only JSON can carry.

    Bracket fields carry strings only, so a top-level key is flattened only when
    its whole value round-trips exactly: nested mappings of strings, at most
    :data:`MAX_BRACKET_DEPTH` keys deep, with keys free of brackets and quotes.
    Any other top-level key (lists such as breadcrumbs, numbers, booleans, null)
    is returned whole in the second value, for a ``sentry`` JSON field. Keeping
    the two sets of top-level keys apart gives the same event on servers that
    merge the JSON deeply (Relay) and shallowly (Bugsink).
    """
    fields: list[tuple[str, str]] = []
    rest: dict[str, object] = {}
    for key, value in event.items():
        leaves = _leaves(value, (key,))
        if leaves is None:
            rest[key] = value
            continue
        for path, text in leaves:
            fields.append(("sentry" + "".join(f"[{part}]" for part in path), text))
    return fields, rest


def _leaves(value: object, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]] | None:
    if len(path) > MAX_BRACKET_DEPTH or not _bracket_safe(path[-1]):
        return None
    if isinstance(value, str):
        return [(path, value)]
    if not isinstance(value, Mapping):
        return None
    found: list[tuple[tuple[str, ...], str]] = []
    for key, item in value.items():
        if not isinstance(key, str):
            return None
        sub = _leaves(item, (*path, key))
        if sub is None:
            return None
        found.extend(sub)
    return found


def _bracket_safe(key: str) -> bool:
    return not any(c in _UNSAFE_IN_BRACKETS for c in key)
