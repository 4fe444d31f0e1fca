"""Integrations: code that captures what the user did not capture by hand.

An integration is an :class:`Integration` subclass with a unique
``identifier``. ``init()`` calls :meth:`Integration.setup_once` on each active
integration; the method must be idempotent (a second ``init()`` must not hook
twice), and a failure inside it is logged and the integration skipped.
"""

from __future__ import annotations

from typing import ClassVar

from .._log import logger
from .._options import Options


class Integration:
    """Base class of every integration."""

    identifier: ClassVar[str] = ""

    def setup_once(self) -> None:
        """Install hooks. Called on every ``init()``; must hook only once per process."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identifier!r}>"


def default_integrations() -> list[Integration]:
    """The integrations ``init()`` enables unless ``default_integrations=False``."""
    # Imported here, not at the top, for start-up cost only: ``import tripwire``
    # must not load every integration module (there is no import cycle to dodge).
    from .argv import ArgvIntegration
    from .atexit import AtexitIntegration
    from .dedupe import DedupeIntegration
    from .excepthook import ExcepthookIntegration
    from .logging import LoggingIntegration
    from .modules import ModulesIntegration
    from .stdlib import StdlibIntegration
    from .threading import ThreadingIntegration

    return [
        ArgvIntegration(),
        AtexitIntegration(),
        DedupeIntegration(),
        ExcepthookIntegration(),
        LoggingIntegration(),
        ModulesIntegration(),
        StdlibIntegration(),
        ThreadingIntegration(),
    ]


def _matches(integration: Integration, disabled: tuple[object, ...]) -> bool:
    for entry in disabled:
        if entry is integration or entry == integration.identifier:
            return True
        if isinstance(entry, type) and isinstance(integration, entry):
            return True
        if isinstance(entry, Integration) and entry.identifier == integration.identifier:
            return True
    return False


def setup_integrations(options: Options) -> list[str]:
    """Set up the integrations ``options`` asks for; returns the identifiers now active.

    An integration that fails to set up is logged and left out, never breaking ``init()``.
    """
    chosen: dict[str, Integration] = {}
    if options.default_integrations:
        for integration in default_integrations():
            chosen[integration.identifier] = integration
    for integration in options.integrations:
        if not isinstance(integration, Integration):
            logger.warning("ignoring %r in integrations: not an Integration instance", integration)
            continue
        chosen[integration.identifier] = integration  # an explicit one replaces a default
    active: list[str] = []
    for identifier, integration in chosen.items():
        if _matches(integration, options.disabled_integrations):
            continue
        try:
            integration.setup_once()
        except Exception:
            logger.exception("integration %r failed to set up and is disabled", identifier)
            continue
        active.append(identifier)
    return sorted(active)
