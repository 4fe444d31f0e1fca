"""Threads: uncaught exceptions in threads, and one hub per thread.

``threading.excepthook`` captures an exception that ends a thread (mechanism
``threading``, ``handled: false``), then the previous hook prints it as usual.

``Thread.start`` is wrapped so a thread started after ``init()`` runs with a hub
forked from its starter's hub at the moment ``start()`` is called: it sees what
the starter had set (release, request tags), and what it sets itself stays its
own. ``ThreadPoolExecutor.submit`` is wrapped the same way, per task, because
pool threads outlive the task that started them.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, ClassVar

from .._hub import Hub, _hub_var, current_hub
from .._log import logger
from . import Integration
from ._active import client_for

_PATCHED_MARK = "__tripwire_threading__"


class ThreadingIntegration(Integration):
    """Capture exceptions that end threads; give each new thread its own hub.

    ``propagate_scope=False`` starts threads with a hub forked from the main hub
    instead of from the starter's.
    """

    identifier: ClassVar[str] = "threading"
    propagate_scope: ClassVar[bool] = True

    def __init__(self, propagate_scope: bool = True) -> None:
        self._propagate_scope = bool(propagate_scope)

    def setup_once(self) -> None:
        ThreadingIntegration.propagate_scope = self._propagate_scope
        if not getattr(threading.excepthook, _PATCHED_MARK, False):
            threading.excepthook = _make_excepthook(threading.excepthook)
        if not getattr(threading.Thread.start, _PATCHED_MARK, False):
            threading.Thread.start = _make_start(threading.Thread.start)  # type: ignore[method-assign]
        _patch_pool()


def _parent_hub() -> Hub:
    return current_hub() if ThreadingIntegration.propagate_scope else Hub.main


# --- uncaught exceptions ---


def _make_excepthook(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    def tripwire_threading_excepthook(args: Any) -> object:
        try:
            _capture(args.exc_value)
        except Exception:
            logger.exception("capturing an exception that ended a thread failed")
        return previous(args)

    setattr(tripwire_threading_excepthook, _PATCHED_MARK, True)
    tripwire_threading_excepthook.__wrapped__ = previous  # type: ignore[attr-defined]
    return tripwire_threading_excepthook


def _capture(error: BaseException | None) -> None:
    # SystemExit ends a thread quietly, and the default hook says nothing either.
    if error is None or isinstance(error, SystemExit):
        return
    hub = current_hub()
    if client_for(ThreadingIntegration.identifier, hub) is None:
        return
    hint = {
        "exc_info": (type(error), error, error.__traceback__),
        "mechanism": {"type": "threading", "handled": False},
    }
    hub.capture_event({"level": "error"}, hint)


# --- a hub per thread ---


def _make_start(original: Callable[..., None]) -> Callable[..., None]:
    def start(self: threading.Thread) -> None:
        try:
            if client_for(ThreadingIntegration.identifier) is not None:
                _give_hub(self, Hub(_parent_hub()))
                _patch_pool()
        except Exception:
            logger.exception("could not give thread %r its own hub", self)
        original(self)

    setattr(start, _PATCHED_MARK, True)
    start.__wrapped__ = original  # type: ignore[attr-defined]
    start.__doc__ = original.__doc__
    return start


def _give_hub(thread: threading.Thread, hub: Hub) -> None:
    run = thread.run

    def run_with_hub() -> None:
        # Runs first thing in the new thread: its context is fresh, so this
        # binding is seen by everything the thread does, its excepthook included.
        _hub_var.set(hub)
        try:
            run()
        finally:
            # Drop the instance attribute so a finished Thread object does not
            # keep the hub's scope alive.
            thread.__dict__.pop("run", None)

    thread.run = run_with_hub  # type: ignore[method-assign]


# --- thread pools ---


def _patch_pool() -> None:
    # Only patch a pool module somebody imported: importing concurrent.futures
    # ourselves would cost start-up time in programs that never use it. Called at
    # setup and at each thread start, so a pool imported later is patched when it
    # starts its first worker (that first task already runs in the worker's own
    # hub, forked from the submitter's by the start() wrapper).
    module = sys.modules.get("concurrent.futures.thread")
    if module is None:
        return
    pool: Any = module.ThreadPoolExecutor
    original = pool.submit
    if getattr(original, _PATCHED_MARK, False):
        return

    def submit(self: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        task = fn
        try:
            if client_for(ThreadingIntegration.identifier) is not None:
                task = _run_in(Hub(_parent_hub()), fn)
        except Exception:
            logger.exception("could not give a pool task its own hub")
        return original(self, task, *args, **kwargs)

    setattr(submit, _PATCHED_MARK, True)
    submit.__wrapped__ = original  # type: ignore[attr-defined]
    submit.__doc__ = original.__doc__
    pool.submit = submit


def _run_in(hub: Hub, fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with hub:
            return fn(*args, **kwargs)

    return call
