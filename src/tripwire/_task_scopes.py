"""Scope isolation for asyncio tasks.

Tasks copy their parent's ``contextvars`` context, so without help every task
would share its parent's hub, and a tag set in one task would show up in events
of its siblings. Wrapping ``BaseEventLoop.create_task`` gives each new task a
hub forked from its creator's at the moment it is created.

``asyncio`` is not imported for this: importing it costs start-up time in
programs that never use it. If it is not loaded yet at ``init()``, a small
import hook patches it when it is (``_import_hooks``).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

from ._hub import fork_for_task, restore
from ._import_hooks import when_imported
from ._log import logger

_PATCHED_MARK = "__tripwire_isolating__"


def _patch(base_events: ModuleType) -> None:
    loop_class: Any = base_events.BaseEventLoop
    original: Callable[..., Any] = loop_class.create_task
    if getattr(original, _PATCHED_MARK, False):
        return

    def create_task(self: Any, coro: Any, *args: Any, **kwargs: Any) -> Any:
        context = kwargs.get("context")
        if context is not None:
            # An explicit context (asyncio.run's main task on 3.11+) is the task's
            # own: fork the hub inside it.
            try:
                context.run(fork_for_task)
            except Exception:  # e.g. a context already entered: the task shares its hub
                logger.debug("could not fork a hub for a task", exc_info=True)
            return original(self, coro, *args, **kwargs)
        token = fork_for_task()
        try:
            return original(self, coro, *args, **kwargs)
        finally:
            restore(token)

    setattr(create_task, _PATCHED_MARK, True)
    create_task.__wrapped__ = original  # type: ignore[attr-defined]
    create_task.__doc__ = original.__doc__
    loop_class.create_task = create_task


def install() -> None:
    """Make each asyncio task created from now on get its own hub. Idempotent."""
    when_imported("asyncio.base_events", _patch)
