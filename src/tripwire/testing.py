"""Helpers for testing code that uses tripwire (and for tripwire's own tests).

``CapturingTransport`` records every event the client hands to the transport,
on the caller's thread, instead of sending it::

    from tripwire.testing import CapturingTransport

    transport = CapturingTransport()
    tripwire.init(transport=transport)
    code_under_test()
    assert transport.events[0]["exception"]["values"][-1]["type"] == "KeyError"

The recorded events are as the client produced them: scope data applied, hooks
run, but not yet completed for the wire (no context lines, not scrubbed, not
trimmed). ``wire_events()`` returns them as the worker would encode them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

from ._finalize import finalize_event
from ._protocol import Attachment, Event
from ._transport import FlushResult, Transport

__all__ = ["CapturingTransport"]


class CapturingTransport(Transport):
    """A transport that keeps events in memory; nothing leaves the process."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.events: list[Event] = []
        self.attachments: list[tuple[Attachment, ...]] = []
        self.lost: list[tuple[str, str, int]] = []
        self.closed = False

    def capture_event(self, event: Event, attachments: Sequence[Attachment] = ()) -> bool:
        if self.closed:
            return False
        with self._lock:
            self.events.append(event)
            self.attachments.append(tuple(attachments))
        return True

    def record_lost(self, reason: str, category: str, quantity: int = 1) -> None:
        with self._lock:
            self.lost.append((reason, category, quantity))

    def flush(self, timeout: float | None = None) -> FlushResult:
        return FlushResult(sent=len(self.events))

    def close(self, timeout: float | None = None) -> FlushResult:
        self.closed = True
        return FlushResult(sent=len(self.events))

    def wire_events(self) -> list[dict[str, object]]:
        """The recorded events completed and encoded as the worker would send them."""
        return [json.loads(finalize_event(dict(e), self.options)) for e in self.events]
