"""Finalizing an event on the worker: meta, limits, encoding (``tripwire._finalize``)."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from tripwire._finalize import (
    MAX_EVENT_BYTES,
    MAX_MESSAGE_LENGTH,
    MINIMAL_FRAMES,
    finalize_event,
    minimal_event,
)
from tripwire._options import Options
from tripwire._serialize import snapshot

OPTIONS = Options()


def _frames(count: int, vars_size: int) -> list[dict[str, object]]:
    return [
        {
            "filename": "app.py",
            "abs_path": "/nonexistent/app.py",
            "function": f"f{i}",
            "lineno": i + 1,
            "in_app": True,
            "vars": {"blob": "v" * vars_size, "i": i},
        }
        for i in range(count)
    ]


def _event(**extra: object) -> dict[str, object]:
    event: dict[str, object] = {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "level": "error",
    }
    event.update(extra)
    return event


def test_output_is_compact_utf8_json() -> None:
    """The event is encoded once, compactly, in UTF-8 without ASCII escapes."""
    data = finalize_event(_event(message="héllo ✓"), OPTIONS)
    assert b": " not in data and b", " not in data
    assert "héllo ✓".encode() in data
    assert json.loads(data)["message"] == "héllo ✓"


def test_snapshot_trims_become_meta() -> None:
    """A list trimmed by the snapshot shows up in _meta at its path with its original length."""
    event = _event(extra={"items": snapshot(list(range(40)))})
    out = json.loads(finalize_event(event, OPTIONS))
    assert out["extra"]["items"] == list(range(10))
    assert out["_meta"]["extra"]["items"] == {"": {"len": 40}}


def test_long_messages_are_cut_with_meta() -> None:
    """logentry.formatted over 8192 characters is cut and the cut noted."""
    text = "m" * (MAX_MESSAGE_LENGTH + 500)
    out = json.loads(finalize_event(_event(logentry={"formatted": text, "message": text}), OPTIONS))
    assert len(out["logentry"]["formatted"]) == MAX_MESSAGE_LENGTH
    assert out["logentry"]["formatted"].endswith("...")
    assert out["_meta"]["logentry"]["formatted"][""]["len"] == len(text)
    assert len(out["logentry"]["message"]) == MAX_MESSAGE_LENGTH


def test_unencodable_values_are_degraded() -> None:
    """nan, sets, objects, non-string keys, cycles and lone surrogates do not fail encoding."""
    cyclic: list[object] = []
    cyclic.append(cyclic)
    event = _event(
        extra={
            "nan": float("nan"),
            "set": {1},
            "obj": object(),
            "keys": {1: "a", (2, 3): "b"},
            "cycle": cyclic,
            "surrogate": "a\ud800b",
            "tuple": (1, 2),
        }
    )
    out = json.loads(finalize_event(event, OPTIONS))
    extra = out["extra"]
    assert extra["nan"] == "nan"
    assert extra["set"] == [1]
    assert extra["keys"] == {"1": "a", "(2, 3)": "b"}
    assert extra["cycle"] == ["<recursion>"]
    assert extra["surrogate"] == "a?b"
    assert extra["tuple"] == [1, 2]
    assert isinstance(extra["obj"], str)


def test_deep_nesting_is_cut() -> None:
    """Structures nested past the parser's limit are replaced, not sent."""
    deep: dict[str, object] = {}
    node = deep
    for _ in range(500):
        node["d"] = {}
        node = node["d"]  # type: ignore[assignment]
    out = json.loads(finalize_event(_event(extra={"deep": deep}), OPTIONS))
    assert "nested too deeply" in json.dumps(out)


def test_context_lines_and_scrubbing_happen() -> None:
    """finalize fills context lines and scrubs before encoding."""
    frame = {"abs_path": __file__, "lineno": 1, "function": "f", "vars": {"password": "x"}}
    event = _event(exception={"values": [{"type": "E", "stacktrace": {"frames": [frame]}}]})
    out = json.loads(finalize_event(event, OPTIONS))
    sent = out["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert (
        sent["context_line"]
        == '"""Finalizing an event on the worker: meta, limits, encoding (``tripwire._finalize``)."""'
    )
    assert sent["vars"]["password"] == "[Filtered]"


def test_oversized_event_drops_farthest_locals_first() -> None:
    """Over 1 MB, locals go first from the frames farthest from the crash, left as noted nulls."""
    frames = _frames(30, 50_000)
    event = _event(
        exception={"values": [{"type": "E", "value": "v", "stacktrace": {"frames": frames}}]}
    )
    data = finalize_event(event, OPTIONS)
    assert len(data) <= MAX_EVENT_BYTES
    out = json.loads(data)
    sent = out["exception"]["values"][0]["stacktrace"]["frames"]
    kept = [i for i, f in enumerate(sent) if f["vars"] is not None]
    assert kept and kept[-1] == 29
    assert kept == list(range(kept[0], 30))
    frame_meta = out["_meta"]["exception"]["values"]["0"]["stacktrace"]["frames"]
    assert frame_meta["0"]["vars"] == {"": {"rem": [["!limit", "x"]]}}
    assert str(kept[0]) not in frame_meta


def test_oversized_event_then_breadcrumb_data_then_extra() -> None:
    """With no locals to drop, breadcrumb data goes before extra."""
    crumbs = [{"message": f"c{i}", "data": {"x": "d" * 100_000}} for i in range(8)]
    event = _event(breadcrumbs={"values": crumbs}, extra={"big": "e" * 400_000, "small": 1})
    out = json.loads(finalize_event(event, OPTIONS))
    assert out["extra"] == {"big": "e" * 400_000, "small": 1}
    dropped = [i for i, c in enumerate(out["breadcrumbs"]["values"]) if c["data"] is None]
    assert dropped and dropped == list(range(len(dropped)))
    assert out["_meta"]["breadcrumbs"]["values"]["0"]["data"] == {"": {"rem": [["!limit", "x"]]}}

    event = _event(
        breadcrumbs={"values": [{"message": "m"}]}, extra={"a": "a" * 700_000, "b": "b" * 700_000}
    )
    out = json.loads(finalize_event(event, OPTIONS))
    assert sorted(v is None for v in out["extra"].values()) == [False, True]
    assert "rem" in json.dumps(out["_meta"]["extra"])


def test_oversized_strings_are_cut_last() -> None:
    """A single huge exception message is cut so the event still fits."""
    event = _event(exception={"values": [{"type": "E", "value": "x" * 3_000_000}]})
    data = finalize_event(event, OPTIONS)
    assert len(data) <= MAX_EVENT_BYTES
    out = json.loads(data)
    assert out["exception"]["values"][0]["type"] == "E"
    assert out["_meta"]["exception"]["values"]["0"]["value"][""]["len"] == 3_000_000


def test_finalize_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    """Even a broken event yields valid JSON bytes."""

    class Exploding(dict):  # type: ignore[type-arg]
        def items(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    event = _event(exception={"values": [{"type": "E", "value": "v"}]}, extra=Exploding(a=1))
    with caplog.at_level(logging.ERROR, logger="tripwire"):
        data = finalize_event(event, OPTIONS)
    out = json.loads(data)
    assert out["event_id"] == event["event_id"]


def test_finalize_is_repeatable() -> None:
    """Finalizing the same event twice gives the same bytes (safe to retry)."""
    event = _event(extra={"items": snapshot(list(range(40))), "password": "p"}, message="m")
    first = finalize_event(event, OPTIONS)
    assert finalize_event(event, OPTIONS) == first


def test_minimal_event_keeps_the_essentials() -> None:
    """minimal_event keeps exception types/values and the top frames, nothing bulky."""
    frames = _frames(40, 10)
    event = _event(
        timestamp=1.0,
        release="r",
        exception={
            "values": [
                {
                    "type": "E",
                    "value": "v",
                    "mechanism": {"type": "generic", "handled": True, "data": {"x": 1}},
                    "stacktrace": {"frames": frames},
                }
            ]
        },
        breadcrumbs={"values": [{"message": "m"}]},
        extra={"a": 1},
        request={"url": "u"},
        contexts={"trace": {"trace_id": "a" * 32, "span_id": "b" * 16}, "app": {"x": 1}},
    )
    small = minimal_event(event)
    assert set(small) == {
        "event_id",
        "platform",
        "level",
        "timestamp",
        "release",
        "exception",
        "contexts",
    }
    value = small["exception"]["values"][0]
    assert value["mechanism"] == {"type": "generic", "handled": True}
    sent = value["stacktrace"]["frames"]
    assert len(sent) == MINIMAL_FRAMES
    assert sent[-1]["function"] == "f39"
    assert all("vars" not in f for f in sent)
    assert value["stacktrace"]["frames_omitted"] == [1, 31]
    assert "vars" in frames[0]


def test_shared_scope_data_is_not_changed() -> None:
    """Scrubbing and trimming work on copies: breadcrumbs and extra shared with a scope stay intact."""
    crumb = {"message": "m", "data": {"token": "t", "blob": "b" * 400_000}}
    extra_value = {"password": "p", "blob": "e" * 700_000}
    user = {"id": "1", "ip_address": "203.0.113.1"}
    request = {"url": "https://x/", "cookies": {"a": "b"}, "headers": {"Cookie": "a=b"}}
    snapshot_before = json.dumps([crumb, extra_value, user, request])
    event = _event(
        breadcrumbs={"values": [crumb, crumb]},
        extra={"shared": extra_value},
        user=user,
        request=request,
    )
    data = finalize_event(event, OPTIONS)
    assert len(data) <= MAX_EVENT_BYTES
    assert json.dumps([crumb, extra_value, user, request]) == snapshot_before
