"""Rate limits: header parsing and per-category deadlines on an injected clock."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from tripwire._ratelimit import (
    DEFAULT_RETRY_AFTER,
    RateLimiter,
    parse_rate_limits,
    parse_retry_after,
)

WALL = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("60", 60.0),
        ("2.5", 2.5),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("-3", 0.0),
        (formatdate(WALL + 30, usegmt=True), 30.0),
        (formatdate(WALL - 30, usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        ("nan", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After accepts integer and decimal seconds and HTTP dates, clamps negatives, rejects junk."""
    assert parse_retry_after(value, WALL) == expected


def test_parse_rate_limits_fields() -> None:
    """Entries are comma-separated, categories semicolon-separated, extra fields ignored."""
    parsed = parse_rate_limits(
        "60:error;transaction:key:reason:ns, 2.5::organization, x:attachment"
    )
    assert parsed == [(60.0, ("error", "transaction")), (2.5, ()), (None, ("attachment",))]


def make_limiter(
    header: str | None = None, retry_after: str | None = None, status: int = 429
) -> RateLimiter:
    limiter = RateLimiter()
    headers = {}
    if header is not None:
        headers["X-Sentry-Rate-Limits"] = header
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    limiter.update(status, headers, now=100.0, wall_now=WALL)
    return limiter


def test_sentry_header_limits_only_named_categories_for_exact_time() -> None:
    """A category listed in X-Sentry-Rate-Limits is paused for exactly its retry_after; others are not."""
    limiter = make_limiter("30:error:key")
    assert limiter.is_limited("error", 100.0)
    assert limiter.is_limited("error", 129.99)
    assert not limiter.is_limited("error", 130.0)
    assert not limiter.is_limited("transaction", 100.0)
    assert not limiter.is_limited("attachment", 100.0)


def test_decimal_retry_after_in_sentry_header() -> None:
    """A decimal retry_after in X-Sentry-Rate-Limits is honoured to the fraction."""
    limiter = make_limiter("1.5:attachment")
    assert limiter.is_limited("attachment", 101.4)
    assert not limiter.is_limited("attachment", 101.5)


def test_empty_categories_limit_everything() -> None:
    """An entry with no categories pauses every category."""
    limiter = make_limiter("10::organization")
    for category in ("error", "default", "attachment", "session", "anything"):
        assert limiter.is_limited(category, 105.0)
    assert not limiter.is_limited("error", 110.0)


def test_error_limit_also_stops_default_events() -> None:
    """Relay counts message events as error, so an error limit pauses default events too."""
    limiter = make_limiter("10:error")
    assert limiter.is_limited("default", 100.0)
    limiter = make_limiter("10:default")
    assert not limiter.is_limited("error", 100.0)


def test_sentry_header_wins_over_retry_after() -> None:
    """When both headers come with a 429, the category-specific header decides."""
    limiter = make_limiter("5:error", retry_after="100")
    assert limiter.is_limited("error", 104.0)
    assert not limiter.is_limited("error", 106.0)
    assert not limiter.is_limited("attachment", 100.0)


@pytest.mark.parametrize("retry_after", ["20", "20.0", formatdate(WALL + 20, usegmt=True)])
def test_retry_after_alone_limits_everything(retry_after: str) -> None:
    """A 429 with only Retry-After (seconds, decimal or date) pauses all categories for that long."""
    limiter = make_limiter(retry_after=retry_after)
    assert limiter.is_limited("attachment", 119.0)
    assert not limiter.is_limited("error", 120.5)


@pytest.mark.parametrize(
    ("header", "retry_after"),
    [(None, None), (None, "garbage"), ("garbage", None), (" , ", "also garbage")],
)
def test_unparseable_429_fails_safe_for_60_seconds(
    header: str | None, retry_after: str | None
) -> None:
    """A 429 whose headers say nothing usable pauses everything for 60 s."""
    limiter = make_limiter(header, retry_after)
    assert limiter.is_limited("error", 100.0 + DEFAULT_RETRY_AFTER - 0.01)
    assert not limiter.is_limited("error", 100.0 + DEFAULT_RETRY_AFTER)


def test_rate_limits_on_success_are_honoured() -> None:
    """X-Sentry-Rate-Limits on a 200 pauses the named categories as well."""
    limiter = make_limiter("12:attachment", status=200)
    assert limiter.is_limited("attachment", 111.0)
    assert not limiter.is_limited("error", 100.0)


def test_success_without_headers_sets_nothing() -> None:
    """A plain 200 leaves every category open, and a malformed header on a 200 is ignored."""
    assert not make_limiter(status=200).is_limited("error", 100.0)
    assert not make_limiter("junk:error", status=200).is_limited("error", 100.0)


def test_longer_limit_is_kept() -> None:
    """A shorter later limit does not shorten a pause already in force."""
    limiter = make_limiter("50:error")
    limiter.update(429, {"x-sentry-rate-limits": "5:error"}, now=101.0, wall_now=WALL)
    assert limiter.is_limited("error", 149.0)
    assert limiter.remaining("error", 140.0) == pytest.approx(10.0)


def test_huge_retry_after_is_capped() -> None:
    """A retry_after beyond a day is capped at a day."""
    limiter = make_limiter("99999999:error")
    assert limiter.remaining("error", 100.0) == pytest.approx(24 * 3600.0)
