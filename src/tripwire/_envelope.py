"""Sentry envelopes: building, serializing and parsing.

An envelope is a JSON header line followed by items; each item is a JSON
header line (``type``, ``length``, ...) and a payload of exactly ``length``
bytes, then a newline::

    {"event_id":"...","sent_at":"...","dsn":"...","sdk":{...}}
    {"type":"event","length":41,"content_type":"application/json"}
    {"message":"hello","level":"info",...}

Payloads carry an explicit length, so binary attachments need no escaping.
The parser also accepts items without a length (the payload then ends at the
next newline), as the format allows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ._dsn import Dsn
from ._version import VERSION

SDK_NAME = "tripwire.python"
SDK_INFO: Mapping[str, str] = {"name": SDK_NAME, "version": VERSION}
CONTENT_TYPE = "application/x-sentry-envelope"


class EnvelopeError(ValueError):
    """Bytes that are not a well-formed envelope."""


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def format_timestamp(wall: float) -> str:
    """RFC 3339 UTC with microseconds, as ``sent_at`` wants it."""
    moment = datetime.fromtimestamp(wall, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Item:
    """One envelope item: its headers and its raw payload bytes."""

    headers: dict[str, object]
    payload: bytes

    @property
    def type(self) -> str:
        return str(self.headers.get("type", ""))

    def json(self) -> object:
        """The payload decoded as JSON (events, client reports...)."""
        return json.loads(self.payload)

    def serialize(self) -> bytes:
        headers = dict(self.headers)
        headers["length"] = len(self.payload)
        return _dumps(headers) + b"\n" + self.payload + b"\n"


@dataclass
class Envelope:
    """An envelope: headers plus items, in order."""

    headers: dict[str, object] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)

    @property
    def event_id(self) -> str | None:
        value = self.headers.get("event_id")
        return value if isinstance(value, str) else None

    def items_of(self, item_type: str) -> Iterator[Item]:
        """The items whose ``type`` is ``item_type``."""
        return (item for item in self.items if item.type == item_type)

    def event(self) -> dict[str, object] | None:
        """The decoded payload of the first ``event`` item, if any."""
        for item in self.items_of("event"):
            value = item.json()
            return value if isinstance(value, dict) else None
        return None

    def serialize(self) -> bytes:
        """The wire form: header line, then each item."""
        parts = [_dumps(self.headers), b"\n"]
        parts.extend(item.serialize() for item in self.items)
        return b"".join(parts)

    @classmethod
    def parse(cls, data: bytes) -> Envelope:
        """Parse the wire form; raise :class:`EnvelopeError` when malformed."""
        end = data.find(b"\n")
        header_line = data if end < 0 else data[:end]
        headers = _load_object(header_line, "envelope header")
        envelope = cls(headers=headers)
        pos = len(data) if end < 0 else end + 1
        while pos < len(data):
            end = data.find(b"\n", pos)
            if end < 0:
                end = len(data)
            line = data[pos:end]
            pos = end + 1
            if not line.strip():
                continue
            item_headers = _load_object(line, "item header")
            length = item_headers.get("length")
            if length is None:
                stop = data.find(b"\n", pos)
                stop = len(data) if stop < 0 else stop
                payload = data[pos:stop]
                pos = stop + 1
            else:
                if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                    raise EnvelopeError(f"item length must be a non-negative integer: {length!r}")
                payload = data[pos : pos + length]
                if len(payload) != length:
                    raise EnvelopeError("item payload shorter than its length")
                pos += length
                if pos < len(data):
                    if data[pos : pos + 1] != b"\n":
                        raise EnvelopeError("item payload not followed by a newline")
                    pos += 1
            envelope.items.append(Item(item_headers, payload))
        return envelope


def _load_object(line: bytes, what: str) -> dict[str, object]:
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise EnvelopeError(f"invalid {what}: {exc}") from None
    if not isinstance(value, dict):
        raise EnvelopeError(f"{what} must be a JSON object")
    return value


def envelope_headers(event_id: str | None, dsn: Dsn | None, wall_now: float) -> dict[str, object]:
    """Envelope headers: event id, send time, DSN without its secret, SDK."""
    headers: dict[str, object] = {}
    if event_id:
        headers["event_id"] = event_id
    headers["sent_at"] = format_timestamp(wall_now)
    if dsn is not None:
        headers["dsn"] = dsn.to_string()
    headers["sdk"] = dict(SDK_INFO)
    return headers


def event_item(payload: bytes) -> Item:
    """An ``event`` item around already-encoded event JSON."""
    return Item({"type": "event", "content_type": "application/json"}, payload)


def attachment_item(
    data: bytes,
    filename: str,
    content_type: str | None = None,
    attachment_type: str = "event.attachment",
) -> Item:
    """An ``attachment`` item with its file name, content type and attachment type."""
    headers: dict[str, object] = {
        "type": "attachment",
        "filename": filename,
        "content_type": content_type or "application/octet-stream",
        "attachment_type": attachment_type,
    }
    return Item(headers, data)


def client_report_item(report: Mapping[str, object]) -> Item:
    """A ``client_report`` item around a payload from :func:`_outcomes.client_report`."""
    return Item({"type": "client_report"}, _dumps(report))
