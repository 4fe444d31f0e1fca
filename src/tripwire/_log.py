"""The ``tripwire`` logger, debug output, and the guard around every entry point.

The SDK never raises into the host application once ``init()`` has returned:
each entry point the host calls runs inside :func:`guard`, which logs the fault
on the ``tripwire`` logger and returns a fallback value instead.
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import Callable, TypeVar

from ._typing import ParamSpec

logger = logging.getLogger("tripwire")
# Silent by default: a library must not print unless asked to.
logger.addHandler(logging.NullHandler())

_P = ParamSpec("_P")
_R = TypeVar("_R")

_debug_handler: logging.Handler | None = None


def set_debug(enabled: bool) -> None:
    """Route the ``tripwire`` logger to stderr (``debug=True``) or silence it again."""
    global _debug_handler
    if enabled and _debug_handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[tripwire] %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        _debug_handler = handler
    elif not enabled and _debug_handler is not None:
        logger.removeHandler(_debug_handler)
        logger.setLevel(logging.NOTSET)
        _debug_handler = None


def is_debug() -> bool:
    """True while ``debug=True`` output is switched on."""
    return _debug_handler is not None


def guard(func: Callable[_P, _R]) -> Callable[_P, _R | None]:
    """Wrap an entry point so an SDK fault is logged and None returned instead."""

    @functools.wraps(func)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R | None:
        try:
            return func(*args, **kwargs)
        except Exception:
            logger.exception("internal error in tripwire.%s", func.__name__)
            return None

    return guarded
