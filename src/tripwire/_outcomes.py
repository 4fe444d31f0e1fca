"""Counting what was dropped, and why, for client reports.

A client report tells the server how many items the SDK discarded, by
``(reason, category)``, so lost events show up in the project's stats instead
of vanishing. Counting happens on callers' threads and on the worker; a report
takes the counts accumulated so far and starts from zero.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

REASONS = frozenset(
    {
        "queue_overflow",
        "ratelimit_backoff",
        "network_error",
        "send_error",
        "sample_rate",
        "before_send",
        "event_processor",
        "internal_sdk_error",
        "cache_overflow",
        "backpressure",
        "insufficient_data",
    }
)
"""Discard reasons the client-report protocol defines (and servers accept)."""


class Outcomes:
    """Thread-safe counters of discarded items by ``(reason, category)``."""

    __slots__ = ("_counts", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}

    def record(self, reason: str, category: str, quantity: int = 1) -> None:
        """Count ``quantity`` items of ``category`` discarded for ``reason``."""
        if quantity <= 0:
            return
        key = (reason, category)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + quantity

    def merge(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Add ``counts`` back (a report that could not be delivered)."""
        with self._lock:
            for key, quantity in counts.items():
                self._counts[key] = self._counts.get(key, 0) + quantity

    def take(self) -> dict[tuple[str, str], int]:
        """Return the counts so far and start again from zero."""
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts

    def __bool__(self) -> bool:
        return bool(self._counts)

    def reset_after_fork(self) -> None:
        """Forget the counts (the parent reports them) and replace a lock that may be held."""
        self._lock = threading.Lock()
        self._counts = {}


def client_report(counts: Mapping[tuple[str, str], int], timestamp: float) -> dict[str, object]:
    """The payload of a ``client_report`` envelope item for ``counts``.

    ``timestamp`` is a Unix time (``time.time()``). Reasons the protocol does
    not know are sent as ``internal_sdk_error`` rather than being refused by
    the server; ``default`` events (messages) are reported as ``error``, the
    category Relay counts them under.
    """
    merged: dict[tuple[str, str], int] = {}
    for (reason, category), quantity in counts.items():
        key = (
            reason if reason in REASONS else "internal_sdk_error",
            "error" if category == "default" else category,
        )
        merged[key] = merged.get(key, 0) + quantity
    return {
        "timestamp": round(timestamp, 3),
        "discarded_events": [
            {"reason": reason, "category": category, "quantity": quantity}
            for (reason, category), quantity in sorted(merged.items())
            if quantity > 0
        ],
    }
