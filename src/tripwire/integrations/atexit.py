"""Interpreter exit: send what is still queued, within ``shutdown_timeout``.

The transport owns the drain at exit (its own ``atexit`` hook flushes within
``shutdown_timeout``, by one deadline, and still sends what other exit
handlers capture later). This integration runs just before that drain: it
gives the queue a short moment, and if events are still waiting and
``debug=True``, says on stderr how many and how long tripwire will wait.
Flushing for the full timeout here as well would let a dead server hold the
exit for twice ``shutdown_timeout``.

``atexit`` runs handlers last-registered first. The transport registers its
own exit drain when the first client is built, which ``init()`` does after
setting up integrations, so this hook re-registers itself when the first event
is captured: from then on it runs before the transport's drain and sees the
events still pending. (Nothing can be pending before an event was captured.)
"""

from __future__ import annotations

import atexit
import sys
from typing import ClassVar

from .._hub import Hub
from .._log import is_debug, logger
from .._protocol import Event, Hint
from .._scope import add_global_event_processor
from . import Integration
from ._active import client_for

# A first short wait, so a queue that drains at once says nothing.
_QUIET_WAIT = 0.1


class AtexitIntegration(Integration):
    """Flush queued events at interpreter exit; report pending ones with ``debug``."""

    identifier: ClassVar[str] = "atexit"

    def setup_once(self) -> None:
        global _armed
        _armed = False
        _register()
        add_global_event_processor(_arm)


_armed = False


def _register() -> None:
    atexit.unregister(_on_exit)
    atexit.register(_on_exit)


def _arm(event: Event, hint: Hint) -> Event:
    global _armed
    if not _armed:
        _armed = True
        _register()
    return event


def _on_exit() -> None:
    try:
        hub = Hub.main
        client = client_for(AtexitIntegration.identifier, hub)
        if client is None:
            return
        timeout = client.options.shutdown_timeout
        result = client.flush(min(_QUIET_WAIT, timeout))
        if result is None or not result.pending or not is_debug():
            return
        sys.stderr.write(
            f"[tripwire] {result.pending} event(s) pending at exit; "
            f"waiting up to {timeout:g}s to send them (press Ctrl-C to quit)\n"
        )
        sys.stderr.flush()
    except Exception:
        logger.exception("flushing tripwire at exit failed")
