"""Scope isolation for asyncio tasks.

Tasks copy their parent's ``contextvars`` context, so without help every task
would share its parent's hub, and a tag set in one task would show up in events
of its siblings. Wrapping ``BaseEventLoop.create_task`` gives each new task a
hub forked from its creator's at the moment it is created.

``asyncio`` is not imported for this: importing it costs start-up time in
programs that never use it. If it is not loaded yet at ``init()``, a small
import hook patches it when it is.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, cast

from ._hub import fork_for_task, restore
from ._log import logger

if TYPE_CHECKING:
    from importlib.abc import Loader

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


class _PatchOnImport:
    """Patches ``asyncio.base_events`` right after it is first imported.

    A meta path finder and loader by protocol, not by inheriting from
    ``importlib.abc``, whose import costs more than all of tripwire's start-up.
    """

    _inner: Loader

    _NAME = "asyncio.base_events"

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self._NAME:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        self._inner = spec.loader
        spec.loader = cast("Loader", self)
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        try:
            _patch(module)
        except Exception:
            logger.exception("could not isolate asyncio task scopes")


def install() -> None:
    """Make each asyncio task created from now on get its own hub. Idempotent."""
    module = sys.modules.get("asyncio.base_events")
    if module is not None:
        _patch(module)
    elif not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
