"""Run code right after a module is first imported, without importing it ourselves.

Integrations patch libraries (``asyncio``, ``http.client``) that many programs
never load. Importing them at ``init()`` would make every program pay for them;
instead, :func:`when_imported` patches a module that is already loaded at once,
and otherwise the first time anything imports it.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Callable, cast

from ._log import logger

if TYPE_CHECKING:
    from importlib.abc import Loader

_callbacks: dict[str, list[Callable[[ModuleType], None]]] = {}


def when_imported(name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(module)`` now if ``name`` is loaded, else right after its import."""
    module = sys.modules.get(name)
    if module is not None:
        _run(callback, module)
        return
    waiting = _callbacks.setdefault(name, [])
    if callback not in waiting:
        waiting.append(callback)
    if not any(isinstance(finder, _AfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())


def _run(callback: Callable[[ModuleType], None], module: ModuleType) -> None:
    try:
        callback(module)
    except Exception:
        logger.exception("patching %s failed", module.__name__)


class _AfterImport:
    """A meta path finder and loader by protocol, not by inheriting from
    ``importlib.abc``, whose own import costs more than all of tripwire's start-up."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _callbacks:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = cast("Loader", _Wrapped(spec.loader))
        return spec


class _Wrapped:
    def __init__(self, inner: Loader) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        for callback in _callbacks.pop(module.__name__, []):
            _run(callback, module)
        if not _callbacks:
            for finder in [f for f in sys.meta_path if isinstance(f, _AfterImport)]:
                sys.meta_path.remove(finder)
