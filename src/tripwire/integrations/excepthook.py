"""Uncaught exceptions: ``sys.excepthook``.

The exception is captured as ``handled: false`` with mechanism ``excepthook``,
then the previous hook runs (so the traceback still prints and the exit status
stays 1), then queued events are flushed within ``shutdown_timeout``.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Callable, ClassVar, Optional

from .._hub import current_hub
from .._log import logger
from . import Integration
from ._active import client_for

_ExceptHook = Callable[[type[BaseException], BaseException, Optional[TracebackType]], object]

_PATCHED_MARK = "__tripwire_excepthook__"


class ExcepthookIntegration(Integration):
    """Capture exceptions nobody caught before the interpreter ends.

    ``always_run=True`` also captures in an interactive session, where
    ``sys.excepthook`` fires for every mistyped line (off by default, as in
    sentry_sdk).
    """

    identifier: ClassVar[str] = "excepthook"
    always_run: ClassVar[bool] = False

    def __init__(self, always_run: bool = False) -> None:
        if not isinstance(always_run, bool):
            raise TypeError(f"always_run must be True or False, got {always_run!r}")
        self._always_run = always_run

    def setup_once(self) -> None:
        ExcepthookIntegration.always_run = self._always_run
        if not getattr(sys.excepthook, _PATCHED_MARK, False):
            sys.excepthook = _make_hook(sys.excepthook)


def _make_hook(previous: _ExceptHook) -> _ExceptHook:
    def tripwire_excepthook(
        exc_type: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> object:
        captured = False
        try:
            captured = _capture(exc_type, value, tb)
        except Exception:
            logger.exception("capturing an uncaught exception failed")
        try:
            return previous(exc_type, value, tb)
        finally:
            if captured:
                _flush()

    setattr(tripwire_excepthook, _PATCHED_MARK, True)
    tripwire_excepthook.__wrapped__ = previous  # type: ignore[attr-defined]
    return tripwire_excepthook


def _capture(exc_type: type[BaseException], value: BaseException, tb: TracebackType | None) -> bool:
    # Ctrl-C is how a user stops a program, not a crash; SystemExit never gets here.
    if isinstance(value, KeyboardInterrupt):
        return False
    if hasattr(sys, "ps1") and not ExcepthookIntegration.always_run:
        return False
    hub = current_hub()
    if client_for(ExcepthookIntegration.identifier, hub) is None:
        return False
    hint = {
        "exc_info": (exc_type, value, tb),
        "mechanism": {"type": "excepthook", "handled": False},
    }
    return hub.capture_event({"level": "error"}, hint) is not None


def _flush() -> None:
    # The interpreter is about to exit; the transport drains at exit anyway, but
    # waiting here costs nothing more and does not depend on atexit ordering.
    try:
        current_hub().flush()
    except Exception:
        logger.exception("flushing after an uncaught exception failed")
