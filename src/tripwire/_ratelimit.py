"""Rate limits announced by the server, per data category, on a monotonic clock.

Pure logic: the current time is passed in, so tests drive the clock. The server
speaks through two headers:

* ``Retry-After``: seconds (``"60"``, ``"2.5"``) or an HTTP date; it limits
  every category.
* ``X-Sentry-Rate-Limits``: comma-separated
  ``retry_after:categories:scope:reason_code:namespaces`` entries, where
  ``categories`` is ``;``-separated and empty means every category. Fields past
  the second are ignored here.

When both are present the Sentry header wins, as Relay intends. A 429 whose
headers say nothing usable limits everything for :data:`DEFAULT_RETRY_AFTER`
seconds, so a confused server never receives a stream of requests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from ._log import logger

DEFAULT_RETRY_AFTER = 60.0
"""Seconds everything pauses after a 429 whose headers cannot be parsed."""

MAX_RETRY_AFTER = 24 * 3600.0
"""Longest pause honoured; a server asking for more is capped (and a typo cannot
silence the SDK for a year)."""

ALL = ""
"""The key under which a limit on every category is stored."""

# Relay counts events without an exception under ``error`` too, so a limit on
# ``error`` must also stop ``default`` events.
_ALIASES: Mapping[str, tuple[str, ...]] = {"default": ("error",)}


def _clamp(seconds: float) -> float | None:
    if math.isnan(seconds) or seconds == math.inf:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def parse_seconds(text: str) -> float | None:
    """A number of seconds (integer or decimal), clamped; None when not a number."""
    text = text.strip()
    if not text or not all(c.isdigit() or c in ".+-eE" for c in text):
        return None
    try:
        return _clamp(float(text))
    except ValueError:
        return None


def parse_retry_after(value: str | None, wall_now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or an HTTP date).

    ``wall_now`` is the current ``time.time()``, needed for the date form. None
    when the value is missing or unparseable.
    """
    if value is None:
        return None
    seconds = parse_seconds(value)
    if seconds is not None:
        return seconds
    try:
        # email.utils is slow to import and HTTP dates are rare: import on first use.
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return _clamp(when.timestamp() - wall_now)


def parse_rate_limits(value: str) -> list[tuple[float | None, tuple[str, ...]]]:
    """The ``(seconds, categories)`` entries of an ``X-Sentry-Rate-Limits`` value.

    ``seconds`` is None for an entry whose ``retry_after`` is unparseable;
    ``categories`` is empty for "every category".
    """
    entries: list[tuple[float | None, tuple[str, ...]]] = []
    for entry in value.split(","):
        if not entry.strip():
            continue
        fields = entry.strip().split(":")
        seconds = parse_seconds(fields[0])
        categories: tuple[str, ...] = ()
        if len(fields) > 1:
            categories = tuple(c.strip().lower() for c in fields[1].split(";") if c.strip())
        entries.append((seconds, categories))
    return entries


class RateLimiter:
    """Per-category deadlines (monotonic seconds) with lock-free reads.

    Readers run on callers' threads and only look up the current mapping; the
    single writer (the worker) replaces the mapping as a whole, so a reader
    never sees a half-updated state.
    """

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def is_limited(self, category: str, now: float) -> bool:
        """True while ``category`` (or every category) is paused at monotonic ``now``."""
        until = self._until
        if not until:
            return False
        if until.get(ALL, 0.0) > now or until.get(category, 0.0) > now:
            return True
        return any(until.get(alias, 0.0) > now for alias in _ALIASES.get(category, ()))

    def any_limited(self, categories: Iterable[str], now: float) -> bool:
        """True when at least one of ``categories`` is paused."""
        return any(self.is_limited(c, now) for c in categories)

    def remaining(self, category: str, now: float) -> float:
        """Seconds until ``category`` may be sent again (0.0 when it may now)."""
        until = self._until
        keys = (ALL, category, *_ALIASES.get(category, ()))
        return max(0.0, *(until.get(k, 0.0) - now for k in keys))

    def limit(self, categories: Iterable[str], seconds: float, now: float) -> None:
        """Pause ``categories`` (empty: every category) for ``seconds`` from ``now``."""
        until = dict(self._until)
        for category in tuple(categories) or (ALL,):
            until[category] = max(until.get(category, 0.0), now + seconds)
        # Forget deadlines that have passed so the mapping stays small.
        self._until = {k: v for k, v in until.items() if v > now}

    def update(
        self, status: int | None, headers: Mapping[str, str], now: float, wall_now: float
    ) -> bool:
        """Apply the limits a response announces; True when any limit was set.

        ``headers`` must be looked up case-insensitively by the caller's mapping
        (urllib3's HTTPHeaderDict is) or have lower-case keys.
        """
        sentry = _header(headers, "x-sentry-rate-limits")
        applied = False
        if sentry:
            for parsed, categories in parse_rate_limits(sentry):
                seconds = parsed
                if seconds is None:
                    if status != 429:
                        continue
                    logger.warning("unparseable X-Sentry-Rate-Limits entry; pausing 60 s")
                    seconds = DEFAULT_RETRY_AFTER
                self.limit(categories, seconds, now)
                applied = True
        if status == 429 and not applied:
            seconds = parse_retry_after(_header(headers, "retry-after"), wall_now)
            if seconds is None:
                logger.warning("429 without a usable Retry-After; pausing everything 60 s")
                seconds = DEFAULT_RETRY_AFTER
            self.limit((), seconds, now)
            applied = True
        return applied

    def reset(self) -> None:
        """Forget every limit."""
        self._until = {}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, val in headers.items():
            if key.lower() == name:
                return val
    return value
