"""What became of sent items: the values flush(), close() and after_send report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

from typing_extensions import Literal

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
