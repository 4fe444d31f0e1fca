"""Scope operations and how apply_to_event merges them into events."""

from __future__ import annotations

import pytest

from tripwire import Scope


def test_tags_set_update_and_remove() -> None:
    """set_tag, set_tags and remove_tag change the tags an event receives."""
    scope = Scope()
    scope.set_tag("a", "1")
    scope.set_tags({"b": "2", "c": "3"})
    scope.remove_tag("c")
    scope.remove_tag("missing")
    event = scope.apply_to_event({}, {})
    assert event is not None
    assert event["tags"] == {"a": "1", "b": "2"}


def test_event_values_win_over_scope_values() -> None:
    """apply_to_event never overwrites what the event already carries."""
    scope = Scope()
    scope.set_tag("shared", "scope")
    scope.set_tag("only_scope", "yes")
    scope.set_extra("x", 1)
    scope.set_user({"id": "scope-user", "email": "s@example.com"})
    scope.set_level("warning")
    scope.fingerprint = ["scope"]
    scope.transaction = "scope-tx"
    scope.set_context("app", {"name": "scope"})
    event = {
        "tags": {"shared": "event"},
        "extra": {"x": 2},
        "user": {"id": "event-user"},
        "level": "error",
        "fingerprint": ["event"],
        "transaction": "event-tx",
        "contexts": {"app": {"name": "event"}},
    }
    out = scope.apply_to_event(event, {})
    assert out is not None
    assert out["tags"] == {"shared": "event", "only_scope": "yes"}
    assert out["extra"] == {"x": 2}
    assert out["user"] == {"id": "event-user", "email": "s@example.com"}
    assert out["level"] == "error"
    assert out["fingerprint"] == ["event"]
    assert out["transaction"] == "event-tx"
    assert out["contexts"]["app"] == {"name": "event"}


def test_scope_values_fill_an_empty_event() -> None:
    """Level, fingerprint, transaction, user, contexts and extra come from the scope."""
    scope = Scope()
    scope.set_level("fatal")
    scope.fingerprint = ["{{ default }}", "db"]
    scope.transaction = "/checkout"
    scope.set_user({"id": "7"})
    scope.set_context("order", {"id": 99})
    scope.set_extra("cart", [1, 2])
    out = scope.apply_to_event({}, {})
    assert out is not None
    assert out["level"] == "fatal"
    assert out["fingerprint"] == ["{{ default }}", "db"]
    assert out["transaction"] == "/checkout"
    assert out["user"] == {"id": "7"}
    assert out["contexts"]["order"] == {"id": 99}
    assert out["extra"] == {"cart": [1, 2]}


def test_set_user_none_clears_the_user() -> None:
    """set_user(None) removes the user from later events."""
    scope = Scope()
    scope.set_user({"id": "1"})
    scope.set_user(None)
    out = scope.apply_to_event({}, {})
    assert out is not None and "user" not in out


def test_set_context_none_removes_it() -> None:
    """set_context(name, None) removes a context."""
    scope = Scope()
    scope.set_context("gpu", {"name": "x"})
    scope.set_context("gpu", None)
    out = scope.apply_to_event({}, {})
    assert out is not None and "gpu" not in out["contexts"]


def test_bad_level_is_refused() -> None:
    """set_level rejects a level outside fatal/error/warning/info/debug."""
    with pytest.raises(ValueError, match="level must be one of"):
        Scope().set_level("loud")


def test_event_processor_can_change_or_drop() -> None:
    """Event processors run in order; one returning None drops the event."""
    scope = Scope()
    scope.add_event_processor(lambda event, hint: {**event, "tags": {"p": "1"}})
    assert scope.apply_to_event({}, {}) == {"tags": {"p": "1"}, "contexts": {}}
    scope.add_event_processor(lambda event, hint: None)
    assert scope.apply_to_event({}, {}) is None


def test_raising_event_processor_keeps_the_event(caplog: pytest.LogCaptureFixture) -> None:
    """A processor that raises is logged and the event goes on unchanged."""
    scope = Scope()

    def broken(event: dict[str, object], hint: dict[str, object]) -> dict[str, object]:
        raise RuntimeError("boom")

    scope.add_event_processor(broken)
    assert scope.apply_to_event({"x": 1}, {}) == {"x": 1, "contexts": {}}
    assert any("event processor" in r.getMessage() for r in caplog.records)


def test_error_processor_runs_only_for_errors_of_its_class() -> None:
    """Error processors see exc_info and run only for the exception class given."""
    scope = Scope()
    seen: list[str] = []

    def processor(event: dict[str, object], exc_info: object) -> dict[str, object]:
        seen.append(type(exc_info[1]).__name__)  # type: ignore[index]
        return event

    scope.add_error_processor(processor, KeyError)
    scope.apply_to_event({}, {})
    err = ValueError("v")
    scope.apply_to_event({}, {"exc_info": (ValueError, err, None)})
    kerr = KeyError("k")
    scope.apply_to_event({}, {"exc_info": (KeyError, kerr, None)})
    assert seen == ["KeyError"]


def test_breadcrumb_ring_buffer_keeps_the_newest() -> None:
    """A full breadcrumb buffer drops the oldest crumb first."""
    scope = Scope(max_breadcrumbs=3)
    for i in range(5):
        scope.add_breadcrumb({"message": str(i)})
    assert [c["message"] for c in scope.breadcrumbs] == ["2", "3", "4"]
    out = scope.apply_to_event({"breadcrumbs": {"values": [{"message": "own"}]}}, {})
    assert out is not None
    assert [c["message"] for c in out["breadcrumbs"]["values"]] == ["2", "3", "4", "own"]


def test_clear_breadcrumbs_and_clear() -> None:
    """clear_breadcrumbs empties the buffer; clear() forgets everything."""
    scope = Scope()
    scope.add_breadcrumb({"message": "m"})
    scope.clear_breadcrumbs()
    assert scope.breadcrumbs == []
    scope.set_tag("t", "v")
    scope.set_user({"id": "1"})
    scope.add_event_processor(lambda e, h: None)
    scope.clear()
    out = scope.apply_to_event({}, {})
    assert out == {"contexts": {}}


def test_copy_is_independent() -> None:
    """Changing a copy of a scope never changes the original."""
    scope = Scope()
    scope.set_tag("a", "1")
    scope.add_breadcrumb({"message": "first"})
    copy = scope.copy()
    copy.set_tag("b", "2")
    copy.add_breadcrumb({"message": "second"})
    assert scope.tags == {"a": "1"}
    assert len(scope.breadcrumbs) == 1


def test_attachments_are_handed_over_in_the_hint() -> None:
    """add_attachment puts the attachment into the hint for the transport."""
    scope = Scope()
    scope.add_attachment(bytes=b"hello", filename="hello.txt", content_type="text/plain")
    scope.add_attachment(path="/tmp/some/log.txt")
    hint: dict[str, object] = {}
    scope.apply_to_event({}, hint)
    attachments = hint["attachments"]
    assert [a.filename for a in attachments] == ["hello.txt", "log.txt"]  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="filename"):
        scope.add_attachment(bytes=b"x")


def test_trace_context_is_stable_per_scope() -> None:
    """Events of one scope share a trace id; a fresh scope gets a new one."""
    counter = iter(range(100))

    def new_trace() -> dict[str, str]:
        n = next(counter)
        return {"trace_id": f"{n:032x}", "span_id": f"{n:016x}"}

    scope = Scope()
    first = scope.apply_to_event({}, {}, new_trace)
    second = scope.apply_to_event({}, {}, new_trace)
    assert first is not None and second is not None
    assert first["contexts"]["trace"] == second["contexts"]["trace"]
    other = Scope().apply_to_event({}, {}, new_trace)
    assert other is not None
    assert other["contexts"]["trace"] != first["contexts"]["trace"]
