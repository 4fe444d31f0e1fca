"""What became of sent items: the values flush(), close() and after_send report."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable, Literal, Optional

from ._log import logger

MAX_NOTICES = 1000
"""Drops seen on callers' threads kept for the ``after_send`` hook."""

Outcome = Literal["sent", "rate_limited", "network_error", "send_error", "queue_overflow"]

# Outcomes as the after_send hook names them, by client-report reason.
OUTCOME_OF_REASON: Mapping[str, Outcome] = {
    "queue_overflow": "queue_overflow",
    "ratelimit_backoff": "rate_limited",
    "network_error": "network_error",
    "send_error": "send_error",
}


@dataclass(frozen=True)
class SendResult:
    """What happened to one event or upload; the ``after_send`` hook's argument."""

    event_id: Optional[str]
    server_event_id: Optional[str]
    outcome: Outcome
    status: Optional[int] = None


@dataclass(frozen=True)
class FlushResult:
    """The outcome of :meth:`Transport.flush` / :meth:`Transport.close`.

    ``sent`` and ``dropped`` (by reason) count events and uploads resolved since
    the previous flush or close; ``pending`` is how many were still queued or in
    flight when the timeout ran out. True when nothing is pending.
    """

    sent: int = 0
    dropped: Mapping[str, int] = field(default_factory=dict)
    pending: int = 0

    def __bool__(self) -> bool:
        return self.pending == 0


@dataclass(frozen=True)
class Delivery:
    """What sending one request came to, as the worker sees it."""

    outcome: Outcome
    status: Optional[int] = None
    server_event_id: Optional[str] = None


def reason_of(delivery: Delivery) -> str:
    """The client-report reason for a delivery that failed."""
    if delivery.outcome == "rate_limited":
        return "ratelimit_backoff"
    return delivery.outcome


class Ledger:
    """The counts behind :class:`FlushResult`, and the ``after_send`` hook's runner.

    Callers' threads count drops and leave notices; only the worker runs the
    hook (:meth:`notify`, :meth:`run_notices`).
    """

    def __init__(self) -> None:
        self.hook: Optional[Callable[[SendResult], object]] = None
        self.reset()

    def reset(self) -> None:
        """Start from zero with a fresh lock (also in a forked child)."""
        self._lock = threading.Lock()
        self._sent = 0
        self._dropped: dict[str, int] = {}
        self._notices: deque[SendResult] = deque(maxlen=MAX_NOTICES)

    def count_sent(self) -> None:
        with self._lock:
            self._sent += 1

    def count_dropped(self, reason: str, quantity: int = 1) -> None:
        if quantity <= 0:
            return
        with self._lock:
            self._dropped[reason] = self._dropped.get(reason, 0) + quantity

    def take(self, pending: int) -> FlushResult:
        """The counts since the last take, as a result with ``pending`` items left."""
        with self._lock:
            sent, dropped = self._sent, self._dropped
            self._sent, self._dropped = 0, {}
        return FlushResult(sent=sent, dropped=dropped, pending=pending)

    def leave(self, result: SendResult) -> None:
        """Keep ``result`` for the worker to announce (called on callers' threads)."""
        self._notices.append(result)

    @property
    def has_notices(self) -> bool:
        return bool(self._notices)

    def notify(self, result: SendResult) -> None:
        """Run the hook with ``result``; an exception in it is logged, never raised."""
        hook = self.hook
        if hook is None:
            return
        try:
            hook(result)
        except Exception:
            logger.exception("after_send raised; ignored")

    def run_notices(self) -> None:
        """Announce every notice left so far."""
        notices = self._notices
        while notices:
            try:
                result = notices.popleft()
            except IndexError:
                return
            self.notify(result)
