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
from typing import Optional

from ._environment import installed_modules
from ._log import logger
from ._options import Options
from ._protocol import Event
from ._scrub import scrub_event
from ._serialize import (
    FAILED_PLACEHOLDER,
    RECURSION_PLACEHOLDER,
    NotedDict,
    NotedList,
    NotedStr,
    ReprBudget,
    Snapshotter,
    cut_text,
)
from ._shrink import (
    LONG_STRING,
    MAX_EVENT_BYTES,
    MAX_NESTING,
    MetaTree,
    dumps,
    merge_meta,
    set_meta,
    shrink,
)
from ._stacktrace import fill_context_lines

#: ``logentry.formatted``/``message`` are cut to this many characters.
MAX_MESSAGE_LENGTH = 8192
#: Frames kept per stack trace by :func:`minimal_event`.
MINIMAL_FRAMES = 10


# --- making the event JSON-safe -----------------------------------------------------


class _Preparer:
    """One walk that copies the event into containers the finalizer owns, fixes what
    JSON cannot hold, and gathers ``Noted*`` trims into a meta tree.

    The copy matters: breadcrumbs and extra values are shared with the scope,
    and trimming must not change what later events see.
    """

    def __init__(self, budget: ReprBudget | None = None) -> None:
        self._active: set[int] = set()
        # Values still live (breadcrumb data, tags, contexts) may reach repr() here:
        # the same per-event time budget as on the caller's thread applies.
        self._snap = Snapshotter(breadth=100, budget=budget)

    def value(
        self, value: object, depth: int, snapped: bool = False
    ) -> tuple[object, Optional[MetaTree]]:
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
            return self._list(value, depth)  # type: ignore[arg-type]
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

    def _dict(self, value: dict[object, object], depth: int) -> tuple[object, Optional[MetaTree]]:
        stop = self._enter(value, depth)
        if stop is not None:
            return stop, None
        try:
            meta = getattr(value, "meta", None)
            out: dict[str, object] = NotedDict() if meta else {}
            tree: MetaTree = {}
            for key, raw in value.items():
                name = key if type(key) is str else self._snap.key(key)
                cls = type(raw)
                item = raw
                if not (cls is str or cls is int or cls is bool or raw is None):
                    item, sub = self.value(raw, depth + 1)
                    if sub:
                        tree[name] = sub
                out[name] = item
            if meta:
                out.meta = dict(meta)  # type: ignore[attr-defined]
                tree[""] = dict(meta)
            return out, (tree or None)
        finally:
            self._active.discard(id(value))

    def _list(self, value: list[object], depth: int) -> tuple[object, Optional[MetaTree]]:
        stop = self._enter(value, depth)
        if stop is not None:
            return stop, None
        try:
            meta = getattr(value, "meta", None)
            out: list[object] = NotedList() if meta else []
            tree: MetaTree = {}
            for index, raw in enumerate(value):
                cls = type(raw)
                item = raw
                if not (cls is str or cls is int or cls is bool or raw is None):
                    item, sub = self.value(raw, depth + 1)
                    if sub:
                        tree[str(index)] = sub
                out.append(item)
            if meta:
                out.meta = dict(meta)  # type: ignore[attr-defined]
                tree[""] = dict(meta)
            return out, (tree or None)
        finally:
            self._active.discard(id(value))


def _cut_messages(event: Event) -> None:
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        logentry = event["logentry"] = dict(logentry)
        for field in ("formatted", "message"):
            text = logentry.get(field)
            if isinstance(text, str) and len(text) > MAX_MESSAGE_LENGTH:
                logentry[field] = cut_text(text, MAX_MESSAGE_LENGTH)
    message = event.get("message")
    if isinstance(message, str) and len(message) > MAX_MESSAGE_LENGTH:
        event["message"] = cut_text(message, MAX_MESSAGE_LENGTH)


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
        return dumps(_Preparer().value(small, 0)[0])
    except Exception:
        logger.exception("could not encode even a minimal event")
        return dumps({"event_id": str(event.get("event_id") or ""), "message": FAILED_PLACEHOLDER})


def _own_meta(meta: object) -> MetaTree | None:
    """A private copy of ``_meta`` the caller set, or None if it is not usable."""
    if not isinstance(meta, dict):
        return None
    try:
        copy = json.loads(dumps(meta))
    except Exception:
        return None
    return copy if isinstance(copy, dict) else None


def _finalize(event: Event, options: Options) -> bytes:
    fill_context_lines(event)
    if (
        "modules" not in event
        and options.default_integrations
        and not options.integration_disabled("modules")
    ):
        # Read once per process (importlib.metadata is slow), here on the worker.
        event["modules"] = installed_modules()
    try:
        scrub_event(event, options)
    except Exception:
        # Never send what could not be scrubbed: fall back to the essentials.
        logger.exception("scrubbing failed; sending a minimal event")
        event = minimal_event(event)
        scrub_event(event, options)
    _cut_messages(event)
    body = {k: v for k, v in event.items() if k != "_meta"}
    prepared, collected = _Preparer(ReprBudget(options.repr_time_budget)).value(body, 0)
    if not isinstance(prepared, dict):
        raise TypeError("the event is not a JSON object")
    meta: MetaTree = collected or {}
    previous = _own_meta(event.get("_meta"))
    if previous:
        merge_meta(meta, previous)
    set_meta(prepared, meta)
    data = dumps(prepared)
    if len(data) > MAX_EVENT_BYTES:
        shrunk = shrink(prepared, meta, data)
        if shrunk is None:
            logger.warning(
                "event %s is too large even when trimmed; sending a minimal version",
                event.get("event_id"),
            )
            shrunk = dumps(minimal_event(prepared))
        data = shrunk
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
