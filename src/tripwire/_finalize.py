"""Turning a captured event into the JSON bytes that go on the wire.

Runs on the transport's worker thread, so the caller's thread never pays for
context lines, scrubbing, trimming or encoding. The steps:

1. context lines from ``linecache`` (:func:`fill_context_lines`);
2. scrubbing (:func:`scrub_event`);
3. messages cut to :data:`MAX_MESSAGE_LENGTH`;
4. one walk that makes every value JSON-safe and gathers the trims recorded
   on the way (``Noted*`` values) into the event's ``_meta``, as Relay writes it;
5. one compact UTF-8 encoding; when it is over :data:`MAX_EVENT_BYTES`, the
   least important parts go first (locals of the frames farthest from the
   crash, breadcrumb data, then old breadcrumbs, extra, then long strings) and
   it is encoded again; :func:`minimal_event` is the last resort.

It never raises: whatever cannot be encoded is degraded, not failed.
"""

from __future__ import annotations

import json
import math
from typing import Dict, Optional, Tuple

from ._log import logger
from ._options import Options
from ._protocol import Event
from ._scrub import scrub_event
from ._serialize import (
    FAILED_PLACEHOLDER,
    RECURSION_PLACEHOLDER,
    Meta,
    NotedDict,
    NotedList,
    NotedStr,
    Snapshotter,
    cut_text,
)
from ._stacktrace import fill_context_lines

#: Relay refuses events whose JSON is larger than this.
MAX_EVENT_BYTES = 1_000_000
#: ``logentry.formatted``/``message`` are cut to this many characters.
MAX_MESSAGE_LENGTH = 8192
#: Nesting deeper than this is replaced (Relay's JSON parser stops at 128 levels).
MAX_NESTING = 64
#: A string longer than this may be cut when the event is too big.
LONG_STRING = 1024
#: Frames kept per stack trace by :func:`minimal_event`.
MINIMAL_FRAMES = 10

_REMOVED: Meta = {"rem": [["!limit", "x"]]}
_MetaTree = Dict[str, object]
_Path = Tuple[str, ...]


def _dumps(value: object) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Lone surrogates cannot be UTF-8; they become "?" rather than fail the event.
    return text.encode("utf-8", "replace")


# --- meta trees ---------------------------------------------------------------------


def _merge_meta(into: _MetaTree, other: _MetaTree) -> None:
    for key, value in other.items():
        if not isinstance(value, dict):
            continue
        mine = into.get(key)
        if not isinstance(mine, dict):
            into[key] = value
        elif key == "":
            if "len" in value:
                mine.setdefault("len", value["len"])
            rems = list(mine.get("rem") or ())
            for rem in value.get("rem") or ():
                if rem not in rems:
                    rems.append(rem)
            if rems:
                mine["rem"] = rems
        else:
            _merge_meta(mine, value)


def _note(tree: _MetaTree, path: _Path, entry: Meta) -> None:
    node = tree
    for part in path:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    _merge_meta(node, {"": dict(entry)})


def _drop_meta(tree: _MetaTree, path: _Path) -> None:
    node: object = tree
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


# --- making the event JSON-safe -----------------------------------------------------


class _Preparer:
    """One walk: fixes what JSON cannot hold and gathers ``Noted*`` trims into a meta tree."""

    def __init__(self) -> None:
        self._active: set[int] = set()
        self._snap = Snapshotter(breadth=100)

    def value(
        self, value: object, depth: int, snapped: bool = False
    ) -> tuple[object, Optional[_MetaTree]]:
        cls = type(value)
        if cls is str or cls is int or cls is bool or value is None:
            return value, None
        if cls is float:
            return (value if math.isfinite(value) else repr(value)), None  # type: ignore[arg-type]
        if cls is NotedStr:
            meta = getattr(value, "meta", None)
            return value, ({"": dict(meta)} if meta else None)
        if cls is dict or cls is NotedDict:
            return self._dict(value, depth)  # type: ignore[arg-type]
        if cls is list or cls is NotedList:
            return self._list(value, depth)  # type: ignore[arg-type]
        if cls is tuple:
            return self._list(list(value), depth)  # type: ignore[call-overload]
        if isinstance(value, str):
            return str.__str__(value), None
        if isinstance(value, int) and not isinstance(value, bool):
            return int.__index__(value), None
        if snapped:
            return FAILED_PLACEHOLDER, None
        # Anything else (set, datetime, user object...) gets a bounded snapshot.
        return self.value(self._snap.snapshot(value, depth=5), depth, snapped=True)

    def _enter(self, value: object, depth: int) -> str | None:
        if depth >= MAX_NESTING:
            return "<nested too deeply>"
        if id(value) in self._active:
            return RECURSION_PLACEHOLDER
        self._active.add(id(value))
        return None

    def _dict(self, value: dict[object, object], depth: int) -> tuple[object, Optional[_MetaTree]]:
        stop = self._enter(value, depth)
        if stop is not None:
            return stop, None
        try:
            if not all(type(k) is str for k in value):
                fixed = NotedDict() if type(value) is NotedDict else {}
                if isinstance(fixed, NotedDict):
                    fixed.meta = getattr(value, "meta", {})
                for k, v in value.items():
                    fixed[_key(k)] = v
                value = fixed  # type: ignore[assignment]
            tree: _MetaTree = {}
            for key, item in list(value.items()):
                cls = type(item)
                if cls is str or cls is int or cls is bool or item is None:
                    continue
                new, sub = self.value(item, depth + 1)
                if new is not item:
                    value[key] = new
                if sub:
                    tree[key] = sub  # type: ignore[index]
            meta = getattr(value, "meta", None)
            if meta:
                tree[""] = dict(meta)
            return value, (tree or None)
        finally:
            self._active.discard(id(value))

    def _list(self, value: list[object], depth: int) -> tuple[object, Optional[_MetaTree]]:
        stop = self._enter(value, depth)
        if stop is not None:
            return stop, None
        try:
            tree: _MetaTree = {}
            for index, item in enumerate(value):
                cls = type(item)
                if cls is str or cls is int or cls is bool or item is None:
                    continue
                new, sub = self.value(item, depth + 1)
                if new is not item:
                    value[index] = new
                if sub:
                    tree[str(index)] = sub
            meta = getattr(value, "meta", None)
            if meta:
                tree[""] = dict(meta)
            return value, (tree or None)
        finally:
            self._active.discard(id(value))


def _key(key: object) -> str:
    if isinstance(key, str):
        return str.__str__(key)
    if key is None or isinstance(key, (bool, int, float)):
        return repr(key)
    shown = Snapshotter().snapshot(key, depth=0)
    return shown if isinstance(shown, str) else repr(shown)


def _cut_messages(event: Event) -> None:
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for field in ("formatted", "message"):
            text = logentry.get(field)
            if isinstance(text, str) and len(text) > MAX_MESSAGE_LENGTH:
                logentry[field] = cut_text(text, MAX_MESSAGE_LENGTH)
    message = event.get("message")
    if isinstance(message, str) and len(message) > MAX_MESSAGE_LENGTH:
        event["message"] = cut_text(message, MAX_MESSAGE_LENGTH)


# --- shrinking an event that is too big ---------------------------------------------


def _size(value: object) -> int:
    try:
        return len(_dumps(value))
    except Exception:
        return 0


def _frames_by_distance(event: Event) -> list[tuple[_Path, dict[str, object]]]:
    """Frames with ``vars``, farthest from the crash first."""
    found: list[tuple[_Path, dict[str, object]]] = []
    for section in ("threads", "exception"):
        holder = event.get(section)
        values = holder.get("values") if isinstance(holder, dict) else None
        if not isinstance(values, list):
            continue
        for i, value in enumerate(values):
            trace = value.get("stacktrace") if isinstance(value, dict) else None
            frames = trace.get("frames") if isinstance(trace, dict) else None
            if not isinstance(frames, list):
                continue
            for j, frame in enumerate(frames):
                if isinstance(frame, dict) and "vars" in frame:
                    found.append(
                        ((section, "values", str(i), "stacktrace", "frames", str(j)), frame)
                    )
    return found


class _Shrinker:
    def __init__(self, event: Event, meta: _MetaTree, size: int) -> None:
        self.event = event
        self.meta = meta
        self.size = size

    def fits(self) -> bool:
        return self.size <= MAX_EVENT_BYTES

    def _removed(self, path: _Path, piece: object) -> None:
        # Two bytes for the comma and colon around a removed member, roughly.
        self.size -= _size(piece) + 2
        _drop_meta(self.meta, path)
        _note(self.meta, path, _REMOVED)

    def drop_vars(self) -> None:
        for path, frame in _frames_by_distance(self.event):
            if self.fits():
                return
            self._removed((*path, "vars"), frame.pop("vars"))

    def drop_breadcrumb_data(self) -> None:
        crumbs = self.event.get("breadcrumbs")
        values = crumbs.get("values") if isinstance(crumbs, dict) else crumbs
        if not isinstance(values, list):
            return
        prefix: _Path = ("breadcrumbs", "values") if isinstance(crumbs, dict) else ("breadcrumbs",)
        for index, crumb in enumerate(values):
            if self.fits():
                return
            if isinstance(crumb, dict) and "data" in crumb:
                self._removed((*prefix, str(index), "data"), crumb.pop("data"))
        original = len(values)
        while values and not self.fits():
            # Oldest breadcrumbs first, a quarter at a time.
            drop = max(1, len(values) // 4)
            for crumb in values[:drop]:
                self.size -= _size(crumb) + 1
            del values[:drop]
        if len(values) < original:
            # Per-crumb notes would now point at the wrong index.
            _drop_meta(self.meta, prefix)
            _note(self.meta, prefix, {"len": original})

    def drop_extra(self) -> None:
        extra = self.event.get("extra")
        if not isinstance(extra, dict):
            return
        by_size = sorted(extra, key=lambda k: _size(extra[k]), reverse=True)
        for key in by_size:
            if self.fits():
                return
            self._removed(("extra", key), extra.pop(key))

    def cut_long_strings(self) -> None:
        found: list[tuple[int, object, object, _Path]] = []
        _long_strings(self.event, (), found, 0)
        found.sort(key=lambda entry: entry[0], reverse=True)
        for length, holder, key, path in found:
            if self.fits():
                return
            text = holder[key]  # type: ignore[index]
            holder[key] = cut_text(text, LONG_STRING)  # type: ignore[index]
            self.size -= length - LONG_STRING
            _note(
                self.meta,
                path,
                {"len": length, "rem": [["!limit", "s", LONG_STRING - 3, LONG_STRING]]},
            )


def _long_strings(
    node: object, path: _Path, found: list[tuple[int, object, object, _Path]], depth: int
) -> None:
    if depth > MAX_NESTING or path[:1] == ("_meta",):
        return
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        if isinstance(value, str):
            if len(value) > LONG_STRING:
                found.append((len(value), node, key, (*path, str(key))))
        elif isinstance(value, (dict, list)):
            _long_strings(value, (*path, str(key)), found, depth + 1)


def _shrink(event: Event, meta: _MetaTree, data: bytes) -> bytes:
    shrinker = _Shrinker(event, meta, len(data))
    for step in (
        shrinker.drop_vars,
        shrinker.drop_breadcrumb_data,
        shrinker.drop_extra,
        shrinker.cut_long_strings,
    ):
        step()
        if shrinker.fits():
            _set_meta(event, meta)
            data = _dumps(event)
            if len(data) <= MAX_EVENT_BYTES:
                return data
            shrinker.size = len(data)
    logger.warning(
        "event %s is too large even when trimmed; sending a minimal version", event.get("event_id")
    )
    return _dumps(minimal_event(event))


def _set_meta(event: Event, meta: _MetaTree) -> None:
    if meta:
        event["_meta"] = meta
    else:
        event.pop("_meta", None)


# --- entry points -------------------------------------------------------------------


def finalize_event(event: Event, options: Options) -> bytes:
    """Complete ``event`` (context lines, scrubbing, size limits) and encode it as JSON."""
    try:
        return _finalize(event, options)
    except Exception:
        logger.exception(
            "could not finalize event %s; sending a minimal version", event.get("event_id")
        )
    try:
        small = minimal_event(event)
        scrub_event(small, options)
        return _dumps(_Preparer().value(small, 0)[0])
    except Exception:
        logger.exception("could not encode even a minimal event")
        return _dumps({"event_id": str(event.get("event_id") or ""), "message": FAILED_PLACEHOLDER})


def _finalize(event: Event, options: Options) -> bytes:
    fill_context_lines(event)
    try:
        scrub_event(event, options)
    except Exception:
        # Never send what could not be scrubbed: fall back to the essentials.
        logger.exception("scrubbing failed; sending a minimal event")
        event = minimal_event(event)
        scrub_event(event, options)
    _cut_messages(event)
    previous = event.pop("_meta", None)
    prepared, collected = _Preparer().value(event, 0)
    if not isinstance(prepared, dict):
        raise TypeError("the event is not a JSON object")
    meta: _MetaTree = collected or {}
    if isinstance(previous, dict):
        _merge_meta(meta, previous)
    _set_meta(prepared, meta)
    data = _dumps(prepared)
    if len(data) > MAX_EVENT_BYTES:
        data = _shrink(prepared, meta, data)
    return data


_KEEP = (
    "event_id",
    "timestamp",
    "platform",
    "level",
    "logger",
    "release",
    "dist",
    "environment",
    "server_name",
    "transaction",
    "fingerprint",
    "sdk",
)
_FRAME_KEEP = ("filename", "abs_path", "module", "function", "lineno", "colno", "in_app")


def _short(value: object, limit: int) -> object:
    if isinstance(value, str) and len(value) > limit:
        return str.__str__(value)[: limit - 3] + "..."
    return value


def _minimal_trace(trace: object) -> dict[str, object] | None:
    frames = trace.get("frames") if isinstance(trace, dict) else None
    if not isinstance(frames, list) or not frames:
        return None
    kept = [
        {k: _short(f[k], LONG_STRING) for k in _FRAME_KEEP if k in f}
        for f in frames[-MINIMAL_FRAMES:]
        if isinstance(f, dict)
    ]
    if not kept:
        return None
    out: dict[str, object] = {"frames": kept}
    omitted = trace.get("frames_omitted") if isinstance(trace, dict) else None
    before = 0
    if isinstance(omitted, list) and len(omitted) == 2 and all(type(x) is int for x in omitted):
        before = omitted[1] - omitted[0]
    total = len(frames) + before
    dropped = len(frames) - len(kept)
    if dropped and (not before or dropped >= omitted[0] - 1):  # type: ignore[index]
        out["frames_omitted"] = [1, total - len(kept) + 1]
    return out


def minimal_event(event: Event) -> Event:
    """The smallest useful version of ``event``: exception types and values, top frames.

    For a retry after the server refused the full event as too large (HTTP 413).
    No locals, breadcrumbs, extra, request or context lines. ``event`` is not changed.
    """
    small: Event = {k: event[k] for k in _KEEP if k in event}
    tags = event.get("tags")
    if isinstance(tags, dict) and len(tags) <= 100:
        small["tags"] = {str(k): _short(v, 200) for k, v in tags.items()}
    contexts = event.get("contexts")
    if isinstance(contexts, dict):
        kept_contexts = {
            k: contexts[k] for k in ("trace", "os", "runtime") if isinstance(contexts.get(k), dict)
        }
        if kept_contexts:
            small["contexts"] = kept_contexts
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    if isinstance(values, list):
        small_values: list[object] = []
        for value in values:
            if not isinstance(value, dict):
                continue
            entry: dict[str, object] = {
                k: _short(value[k], MAX_MESSAGE_LENGTH)
                for k in ("type", "value", "module")
                if k in value
            }
            mechanism = value.get("mechanism")
            if isinstance(mechanism, dict):
                entry["mechanism"] = {
                    k: v for k, v in mechanism.items() if k not in ("data", "meta")
                }
            trace = _minimal_trace(value.get("stacktrace"))
            if trace is not None:
                entry["stacktrace"] = trace
            small_values.append(entry)
        small["exception"] = {"values": small_values}
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        text = logentry.get("formatted") or logentry.get("message")
        if isinstance(text, str):
            small["logentry"] = {"formatted": _short(text, MAX_MESSAGE_LENGTH)}
    message = event.get("message")
    if isinstance(message, str) and "logentry" not in small:
        small["message"] = _short(message, MAX_MESSAGE_LENGTH)
    return small
