"""The event sent with a dump, and the event id a server answers."""

from __future__ import annotations

import copy

import pytest

from tripwire._minidump import build_minidump_event, normalize_event_id, parse_server_event_id


def test_defaults_for_a_native_crash() -> None:
    """A bare dump event is fatal, native, and has a fresh 32-hex event id."""
    event = build_minidump_event({})
    assert event["level"] == "fatal"
    assert event["platform"] == "native"
    assert normalize_event_id(event["event_id"]) == event["event_id"]
    assert build_minidump_event({})["event_id"] != event["event_id"]


def test_user_event_wins_over_scope() -> None:
    """The caller's event overrides the scope; tags, extra and contexts merge key by key."""
    scope = {
        "release": "app@1",
        "environment": "production",
        "tags": {"a": "scope", "b": "scope"},
        "extra": {"x": 1},
        "contexts": {"os": {"name": "Linux"}},
        "user": {"id": "1", "email": "s@example.com"},
        "breadcrumbs": {"values": [{"message": "scope"}]},
    }
    mine = {
        "release": "app@2",
        "level": "error",
        "tags": {"b": "mine"},
        "contexts": {"app": {"app_name": "x"}},
        "user": {"id": "2"},
    }
    event = build_minidump_event(scope, mine)
    assert event["release"] == "app@2"
    assert event["environment"] == "production"
    assert event["level"] == "error"
    assert event["tags"] == {"a": "scope", "b": "mine"}
    assert event["extra"] == {"x": 1}
    assert event["contexts"] == {"os": {"name": "Linux"}, "app": {"app_name": "x"}}
    assert event["user"] == {"id": "2"}
    assert event["breadcrumbs"] == {"values": [{"message": "scope"}]}


def test_fields_are_copied_into_extra() -> None:
    """Form fields also land in extra, where hooks and the envelope form see them."""
    event = build_minidump_event({"extra": {"a": 1}}, {"extra": {"b": 2}}, {"b": "field", "c": "3"})
    assert event["extra"] == {"a": 1, "b": "field", "c": "3"}


def test_inputs_are_not_mutated() -> None:
    """The scope's and the caller's dicts are left as they were."""
    scope = {"tags": {"a": "1"}, "extra": {"x": 1}}
    mine = {"tags": {"b": "2"}}
    before = copy.deepcopy((scope, mine))
    build_minidump_event(scope, mine, {"f": "v"})
    assert (scope, mine) == before


def test_given_event_id_is_normalised() -> None:
    """A hyphenated or upper-case event id is kept, as 32 lowercase hex digits."""
    event = build_minidump_event({}, {"event_id": "0123ABCD-0123-4567-89AB-0123456789AB"})
    assert event["event_id"] == "0123abcd0123456789ab0123456789ab"


def test_invalid_event_id_is_replaced(caplog: pytest.LogCaptureFixture) -> None:
    """An event id that is not a UUID is replaced by a fresh one, with a warning."""
    event = build_minidump_event({}, {"event_id": "not-an-id"})
    assert normalize_event_id(event["event_id"]) == event["event_id"]
    assert "not-an-id" in caplog.text


@pytest.mark.parametrize(
    ("status", "content_type", "body", "expected"),
    [
        # Relay: the id as text, hyphenated.
        (
            200,
            "text/plain",
            b"0123abcd-0123-4567-89ab-0123456789ab",
            "0123abcd0123456789ab0123456789ab",
        ),
        (200, None, b"0123abcd0123456789ab0123456789ab\n", "0123abcd0123456789ab0123456789ab"),
        # Bugsink / Sentry: JSON.
        (
            200,
            "application/json",
            b'{"id": "0123ABCD0123456789AB0123456789AB"}',
            "0123abcd0123456789ab0123456789ab",
        ),
        (
            200,
            "application/json; charset=utf-8",
            b'{"id":"0123abcd-0123-4567-89ab-0123456789ab"}',
            "0123abcd0123456789ab0123456789ab",
        ),
        (
            200,
            "text/html",
            b'{"id":"0123abcd0123456789ab0123456789ab"}',
            "0123abcd0123456789ab0123456789ab",
        ),
        (
            200,
            "application/json",
            b'{"event_id":"0123abcd0123456789ab0123456789ab"}',
            "0123abcd0123456789ab0123456789ab",
        ),
        # Nothing usable.
        (429, "text/plain", b"0123abcd0123456789ab0123456789ab", None),
        (500, "application/json", b'{"id":"0123abcd0123456789ab0123456789ab"}', None),
        (200, "application/json", b"{not json", None),
        (200, "application/json", b'["0123abcd0123456789ab0123456789ab"]', None),
        (200, "application/json", b'{"id": 12}', None),
        (200, "text/plain", b"OK", None),
        (200, "text/plain", b"", None),
        (200, "text/plain", b"\xff\xfe garbage", None),
    ],
)
def test_server_event_id(
    status: int, content_type: str | None, body: bytes, expected: str | None
) -> None:
    """The server's id is read from Relay's text and Bugsink's JSON, else None."""
    assert parse_server_event_id(status, content_type, body) == expected
