"""Envelopes: wire format, item headers, and the parser."""

from __future__ import annotations

import json

import pytest

from tripwire._dsn import Dsn
from tripwire._envelope import (
    Envelope,
    EnvelopeError,
    Item,
    attachment_item,
    client_report_item,
    envelope_headers,
    event_item,
)
from tripwire._outcomes import Outcomes, client_report


def test_envelope_headers_hide_the_secret() -> None:
    """Envelope headers carry event_id, sent_at, the DSN without its secret, and the SDK."""
    dsn = Dsn.parse("https://public:secret@example.invalid/42")
    headers = envelope_headers("ab" * 16, dsn, 0.5)
    assert headers == {
        "event_id": "ab" * 16,
        "sent_at": "1970-01-01T00:00:00.500000Z",
        "dsn": "https://public@example.invalid/42",
        "sdk": headers["sdk"],
    }
    assert headers["sdk"]["name"] == "tripwire.python"
    assert "secret" not in json.dumps(headers)


def test_serialized_items_have_exact_lengths() -> None:
    """Each item header states the payload's byte length, binary payloads included."""
    payload = '{"message":"h\u00e9"}'.encode()
    binary = bytes(range(256)) + b"\n\n"
    envelope = Envelope(
        {"event_id": "1" * 32},
        [event_item(payload), attachment_item(binary, "dump.bin", None, "event.minidump")],
    )
    wire = envelope.serialize()
    lines = wire.split(b"\n", 2)
    assert json.loads(lines[0]) == {"event_id": "1" * 32}
    assert json.loads(lines[1]) == {
        "type": "event",
        "content_type": "application/json",
        "length": len(payload),
    }
    parsed = Envelope.parse(wire)
    assert [i.type for i in parsed.items] == ["event", "attachment"]
    assert parsed.items[1].payload == binary
    assert parsed.items[1].headers == {
        "type": "attachment",
        "filename": "dump.bin",
        "content_type": "application/octet-stream",
        "attachment_type": "event.minidump",
        "length": len(binary),
    }
    assert parsed.event() == {"message": "h\u00e9"}


def test_parse_items_without_length() -> None:
    """Items without a length end at the next newline, and a missing final newline is fine."""
    wire = b'{}\n{"type":"event"}\n{"a":1}\n{"type":"attachment","length":2}\nxy'
    parsed = Envelope.parse(wire)
    assert parsed.items[0].json() == {"a": 1}
    assert parsed.items[1].payload == b"xy"


@pytest.mark.parametrize(
    "wire",
    [b"not json\n", b'{}\n{"type":"event","length":10}\nshort', b"[]\n", b'{}\n{"length":-1}\n'],
)
def test_parse_rejects_malformed(wire: bytes) -> None:
    """Malformed headers or truncated payloads raise EnvelopeError."""
    with pytest.raises(EnvelopeError):
        Envelope.parse(wire)


def test_client_report_item_payload() -> None:
    """Client reports sum counts by reason and category, and report default events as error."""
    outcomes = Outcomes()
    outcomes.record("queue_overflow", "error", 2)
    outcomes.record("queue_overflow", "default", 3)
    outcomes.record("ratelimit_backoff", "attachment", 100)
    outcomes.record("made_up_reason", "error")
    item = client_report_item(client_report(outcomes.take(), 12.0))
    assert not outcomes
    assert item.type == "client_report"
    assert item.json() == {
        "timestamp": 12.0,
        "discarded_events": [
            {"reason": "internal_sdk_error", "category": "error", "quantity": 1},
            {"reason": "queue_overflow", "category": "error", "quantity": 5},
            {"reason": "ratelimit_backoff", "category": "attachment", "quantity": 100},
        ],
    }


def test_item_json_round_trip() -> None:
    """Item.serialize writes the header with length then the payload and a newline."""
    item = Item({"type": "x"}, b"abc")
    assert item.serialize() == b'{"type":"x","length":3}\nabc\n'
