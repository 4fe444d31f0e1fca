"""Integrations: code that captures what the user did not capture by hand.

An integration is an :class:`Integration` subclass with a unique
``identifier``. ``init()`` calls :meth:`Integration.setup_once` on each active
integration; the method must be idempotent (a second ``init()`` must not hook
twice), and a failure inside it is logged and the integration skipped.
"""

from __future__ import annotations

from typing import ClassVar


class Integration:
    """Base class of every integration."""

    identifier: ClassVar[str] = ""

    def setup_once(self) -> None:
        """Install hooks. Called on every ``init()``; must hook only once per process."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identifier!r}>"
