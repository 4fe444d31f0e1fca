"""Whether an installed hook should act: the one check every integration callback makes.

Hooks are installed once per process, but a later ``init()`` may disable the
integration, drop the DSN, or close the client; the hook then passes through.
"""

from __future__ import annotations

from .._client import Client
from .._hub import Hub, current_hub


def client_for(identifier: str, hub: Hub | None = None) -> Client | None:
    """The client of ``hub`` (default: the current one) if it sends and has ``identifier`` on."""
    client = (hub or current_hub()).client
    if client is None or not client.is_active() or identifier not in client.integrations:
        return None
    return client
