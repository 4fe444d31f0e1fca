"""Installed packages: the ``modules`` attribute of events.

The client's worker adds the installed distributions (read once, then cached)
to each event, off the caller's thread. This integration only makes
``modules`` show in ``sdk.integrations`` and lets
``disabled_integrations=["modules"]`` name it.
"""

from __future__ import annotations

from typing import ClassVar

from . import Integration


class ModulesIntegration(Integration):
    """Report installed packages with events (collected by the client's worker)."""

    identifier: ClassVar[str] = "modules"

    def setup_once(self) -> None:
        return None
