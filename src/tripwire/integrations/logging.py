"""Log records as breadcrumbs and events.

Records at ``level`` (default INFO) and above become breadcrumbs; records at
``event_level`` (default ERROR) and above become events with a ``logentry``
(template, params, formatted message), the ``logger`` name, and the exception
from ``exc_info`` (mechanism ``logging``, ``handled: true``).

How: ``logging.Logger.callHandlers`` is wrapped, as sentry_sdk does, rather
than a handler added to the root logger. Every record that a logger lets
through is seen, also from loggers with ``propagate = False``, and the user's
handler configuration is left exactly as it was. The logger's own level still
applies first: a record the logger drops never reaches tripwire. A record
below both thresholds costs one integer comparison.

Never recorded: the ``tripwire`` logger and its children, records logged on
tripwire's own threads (the sender), records logged while tripwire is already
handling a record on the same thread, and loggers passed to
:func:`ignore_logger`.
"""

from __future__ import annotations

import logging
import sys
import threading
from fnmatch import fnmatchcase
from typing import Any, Callable, ClassVar

from .. import _stacktrace
from .._client import Client
from .._hub import Hub, current_hub
from .._log import logger
from .._protocol import Event
from .._serialize import snapshot
from . import Integration
from ._active import client_for

__all__ = ["LoggingIntegration", "ignore_logger", "unignore_logger"]

DEFAULT_LEVEL = logging.INFO
DEFAULT_EVENT_LEVEL = logging.ERROR

_PATCHED_MARK = "__tripwire_logging__"

# What every LogRecord has; anything else on a record came from ``extra=``.
_BASE_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)))
_STANDARD_ATTRS = _BASE_ATTRS | {"message", "asctime", "taskName"}
_BASE_COUNT = len(_BASE_ATTRS)

_ignored: set[str] = set()
_ignored_patterns: list[str] = []
_decisions: dict[str, bool] = {}  # logger name -> ignored? (cleared on ignore_logger)
_local = threading.local()


def ignore_logger(name: str) -> None:
    """Never turn records of logger ``name`` into breadcrumbs or events.

    ``name`` is a logger name or a glob (``"noisy.*"``), as in sentry_sdk.
    """
    if any(c in name for c in "*?["):
        if name not in _ignored_patterns:
            _ignored_patterns.append(name)
    else:
        _ignored.add(name)
    _decisions.clear()


def unignore_logger(name: str) -> None:
    """Undo :func:`ignore_logger` for ``name``."""
    _ignored.discard(name)
    if name in _ignored_patterns:
        _ignored_patterns.remove(name)
    _decisions.clear()


def _is_ignored(name: str) -> bool:
    decision = _decisions.get(name)
    if decision is None:
        decision = (
            name == "tripwire"
            or name.startswith("tripwire.")
            or name in _ignored
            or any(fnmatchcase(name, pattern) for pattern in _ignored_patterns)
        )
        if len(_decisions) > 4096:  # logger names built from user data must not grow this
            _decisions.clear()
        _decisions[name] = decision
    return decision


class LoggingIntegration(Integration):
    """Breadcrumbs from records at ``level`` and above, events from ``event_level`` and above.

    Either may be None to switch that half off. The last ``init()`` decides.
    """

    identifier: ClassVar[str] = "logging"

    def __init__(
        self, level: int | None = DEFAULT_LEVEL, event_level: int | None = DEFAULT_EVENT_LEVEL
    ) -> None:
        for name, value in (("level", level), ("event_level", event_level)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"LoggingIntegration {name} must be an int level or None")
        self.level = level
        self.event_level = event_level

    def setup_once(self) -> None:
        global _active, _threshold
        _active = self
        levels = [lvl for lvl in (self.level, self.event_level) if lvl is not None]
        _threshold = min(levels) if levels else sys.maxsize
        original = logging.Logger.callHandlers
        if not getattr(original, _PATCHED_MARK, False):
            logging.Logger.callHandlers = _wrap(original)  # type: ignore[method-assign]


_active: LoggingIntegration | None = None
_threshold: int = sys.maxsize


def _wrap(original: Callable[[logging.Logger, logging.LogRecord], None]) -> Any:
    def callHandlers(self: logging.Logger, record: logging.LogRecord) -> None:
        try:
            original(self, record)
        finally:
            if record.levelno >= _threshold:
                _handle(record)

    setattr(callHandlers, _PATCHED_MARK, True)
    callHandlers.__wrapped__ = original  # type: ignore[attr-defined]
    callHandlers.__doc__ = original.__doc__
    return callHandlers


def _handle(record: logging.LogRecord) -> None:
    if getattr(_local, "busy", False):
        return
    integration = _active
    if integration is None or _is_ignored(record.name):
        return
    thread_name = record.threadName
    if thread_name is not None and thread_name.startswith("tripwire-"):
        return
    _local.busy = True
    try:
        hub = current_hub()
        client = client_for(LoggingIntegration.identifier, hub)
        if client is None:
            return
        levelno = record.levelno
        # The event first, so a record's own breadcrumb does not precede it in its event.
        if integration.event_level is not None and levelno >= integration.event_level:
            _capture(hub, client, record)
        if integration.level is not None and levelno >= integration.level:
            _add_breadcrumb(hub, record)
    except Exception:
        logger.exception("turning a log record into a breadcrumb or event failed")
    finally:
        _local.busy = False


def level_name(levelno: int) -> str:
    """The event/breadcrumb level of a logging level; custom levels round down."""
    if levelno >= logging.CRITICAL:
        return "fatal"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


def _extra(record: logging.LogRecord) -> dict[str, object]:
    attrs = record.__dict__
    # Most records have no extra= fields: counting is cheaper than a set difference.
    # A formatter may have added ``message`` and ``asctime``.
    if len(attrs) <= _BASE_COUNT + ("message" in attrs) + ("asctime" in attrs):
        return {}
    return {k: v for k, v in attrs.items() if k not in _STANDARD_ATTRS and k[:1] != "_"}


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        # The user's format string and arguments do not match; show what we have.
        return f"{record.msg!s} % {record.args!r}"


def _add_breadcrumb(hub: Hub, record: logging.LogRecord) -> None:
    crumb: dict[str, object] = {
        "type": "log",
        "level": level_name(record.levelno),
        "category": record.name,
        "message": _message(record),
        "timestamp": record.created,
    }
    data = _extra(record)
    if data:
        crumb["data"] = data
    hub.add_breadcrumb(crumb, {"log_record": record})


def _capture(hub: Hub, client: Client, record: logging.LogRecord) -> None:
    options = client.options

    def snap(value: object) -> object:
        # Snapshot on this thread: the objects may change once the call returns.
        return snapshot(value, depth=3, max_length=options.max_value_length)

    event: Event = {
        "level": level_name(record.levelno),
        "logger": record.name,
        "logentry": {
            "message": str(record.msg),
            "params": snap(record.args) if record.args else [],
            "formatted": _message(record),
        },
    }
    extra = _extra(record)
    if extra:
        event["extra"] = {key: snap(value) for key, value in extra.items()}
    hint: dict[str, object] = {"log_record": record}
    exc_info = record.exc_info
    if exc_info and exc_info[1] is not None:
        hint["exc_info"] = exc_info
        hint["mechanism"] = {"type": "logging", "handled": True}
    elif record.stack_info or exc_info:
        # stack_info=True, or exc_info=True outside an except block: the caller's stack.
        event["threads"] = {"values": [_calling_thread(client, record)]}
    hub.capture_event(event, hint)


def _calling_thread(client: Client, record: logging.LogRecord) -> dict[str, object]:
    # Leave out the logging module's and tripwire's frames above the caller.
    skip = 0
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not (module in ("logging", "tripwire") or module.startswith("tripwire.")):
            break
        skip += 1
        frame = frame.f_back  # type: ignore[assignment]
    del frame
    return _stacktrace.current_thread(client.options, skip=skip + 1)
