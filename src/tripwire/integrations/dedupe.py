"""Deduplication: the same exception object is sent once.

The work is done inside the client, which marks each exception object it
captures and skips it the next time (for example when it is logged with
``logger.exception`` and then reaches ``sys.excepthook``). This integration
exists so that ``dedupe`` shows in ``sdk.integrations`` and can be switched off
with ``disabled_integrations=["dedupe"]``.
"""

from __future__ import annotations

from typing import ClassVar

from . import Integration


class DedupeIntegration(Integration):
    """Skip an exception object that was already captured (the client does the work)."""

    identifier: ClassVar[str] = "dedupe"

    def setup_once(self) -> None:
        return None
