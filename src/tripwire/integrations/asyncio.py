"""asyncio (opt-in): exceptions from tasks that nobody awaited.

When a task fails and nobody retrieves its exception, or a callback raises,
asyncio hands the error to the loop's exception handler. This integration
wraps ``asyncio.BaseEventLoop.call_exception_handler``, so it works for every
loop, including the one ``asyncio.run`` creates after ``init()``, and whether
or not the application set its own handler (which still runs afterwards).

The event is captured with mechanism ``asyncio``, ``handled: false``. On
Python 3.12 and later it is captured against the failed task's own hub (read
from ``Task.get_context()``), so the task's scope data (tags it set) comes with
it even though the error surfaces later, when the task is garbage-collected.
Earlier versions give no access to a task's context from outside it, and the
event gets the scope of whatever code is running when the loop reports it.
"""

from __future__ import annotations

import asyncio
from contextvars import Context
from typing import Any, Callable, ClassVar

from .._hub import Hub, _hub_var, current_hub
from .._log import logger
from . import Integration
from ._active import client_for

_PATCHED_MARK = "__tripwire_asyncio__"


class AsyncioIntegration(Integration):
    """Capture exceptions that reach the event loop's exception handler."""

    identifier: ClassVar[str] = "asyncio"

    def setup_once(self) -> None:
        loop_class: Any = asyncio.BaseEventLoop
        original = loop_class.call_exception_handler
        if getattr(original, _PATCHED_MARK, False):
            return

        def call_exception_handler(self: Any, context: dict[str, Any]) -> None:
            try:
                _capture(context)
            except Exception:
                logger.exception("capturing an asyncio exception failed")
            original(self, context)

        setattr(call_exception_handler, _PATCHED_MARK, True)
        call_exception_handler.__wrapped__ = original  # type: ignore[attr-defined]
        call_exception_handler.__doc__ = original.__doc__
        loop_class.call_exception_handler = call_exception_handler


def _hub_of(context: dict[str, Any]) -> Hub:
    future = context.get("task") or context.get("future")
    task_context: object = None
    if future is not None:
        get_context: Callable[[], Context] | None = getattr(future, "get_context", None)
        if get_context is not None:  # Python 3.12+
            task_context = get_context()
    if isinstance(task_context, Context):
        hub = task_context.get(_hub_var)
        if isinstance(hub, Hub):
            return hub
    return current_hub()


def _capture(context: dict[str, Any]) -> None:
    error = context.get("exception")
    if not isinstance(error, Exception):
        return
    hub = _hub_of(context)
    if client_for(AsyncioIntegration.identifier, hub) is None:
        return
    event: dict[str, object] = {"level": "error"}
    message = context.get("message")
    if isinstance(message, str) and message:
        event["extra"] = {"asyncio.message": message}
    hint = {
        "exc_info": (type(error), error, error.__traceback__),
        "mechanism": {"type": "asyncio", "handled": False},
    }
    hub.capture_event(event, hint)
