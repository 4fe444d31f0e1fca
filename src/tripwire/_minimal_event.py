"""A last-resort, minimal version of an event the server refused as too large (413).

Keeps what tells the user an error happened: exception types and values, the
innermost frames' locations, message, release and tags; drops local
variables, context lines, breadcrumbs, request data and the rest. Uses
``_finalize.minimal_event`` once that exists, this fallback until then.
"""

from __future__ import annotations

import json

from . import _finalize
from ._log import logger
from ._protocol import Event


def minimal_payload(event: Event) -> bytes:
    """The JSON bytes of the smallest useful version of ``event``."""
    make = getattr(_finalize, "minimal_event", None)
    if callable(make):
        try:
            result = make(event)
            if isinstance(result, bytes):
                return result
            if isinstance(result, dict):
                return _dumps(result)
        except Exception:
            logger.exception("minimal_event failed; using the transport's own")
    return _dumps(_local_minimal_event(event))


def _dumps(event: Event) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=repr).encode()


_KEEP = (
    "event_id",
    "timestamp",
    "level",
    "platform",
    "release",
    "environment",
    "dist",
    "logger",
    "server_name",
    "transaction",
    "sdk",
    "fingerprint",
)


def _short(value: object, limit: int = 1024) -> object:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "\u2026"
    return value


def _local_minimal_event(event: Event) -> Event:
    """Exception types and values and the top frames; no locals, context or breadcrumbs."""
    minimal: Event = {key: event[key] for key in _KEEP if key in event}
    message = event.get("message")
    if message is not None:
        minimal["message"] = _short(message)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        minimal["logentry"] = {
            k: _short(logentry[k]) for k in ("message", "formatted") if k in logentry
        }
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    if isinstance(values, list):
        kept = []
        for value in values[-5:]:
            if not isinstance(value, dict):
                continue
            entry = {
                k: _short(value[k]) for k in ("type", "value", "module", "mechanism") if k in value
            }
            frames = (value.get("stacktrace") or {}).get("frames")
            if isinstance(frames, list):
                entry["stacktrace"] = {
                    "frames": [
                        {
                            k: f[k]
                            for k in (
                                "filename",
                                "abs_path",
                                "module",
                                "function",
                                "lineno",
                                "in_app",
                            )
                            if k in f
                        }
                        for f in frames[-10:]
                        if isinstance(f, dict)
                    ]
                }
            kept.append(entry)
        minimal["exception"] = {"values": kept}
    tags = event.get("tags")
    if isinstance(tags, dict):
        minimal["tags"] = tags
    return minimal
