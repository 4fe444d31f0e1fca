"""Shared fixtures: every test starts with a clean main hub and no client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _reset_tripwire() -> Iterator[None]:
    """Leave no client, scope data or debug handler behind for the next test."""
    yield
    import sys

    _hub = sys.modules.get("tripwire._hub")
    _log = sys.modules.get("tripwire._log")
    if _hub is None or _log is None:  # the test never loaded the hub: nothing to reset
        return

    for hub in {id(_hub._MAIN): _hub._MAIN, id(_hub.current_hub()): _hub.current_hub()}.values():
        client = hub.client
        if client is not None:
            client.close(timeout=1.0)
        hub.bind_client(None)
        del hub._stack[1:]
        hub._client, hub._scope = hub._stack[0]
        hub.scope.clear()
        hub._last_event_id = None
    _log.set_debug(False)
