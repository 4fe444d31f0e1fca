"""The command line's pure helpers: DSN lookup, KEY=VALUE pairs, redaction, log tails, rate limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripwire._cli_check import explain_rate_limits
from tripwire._cli_common import (
    BAD_DSN,
    BAD_FILE,
    USAGE,
    CliError,
    parse_pairs,
    redact,
    resolve_dsn,
)
from tripwire._cli_send import log_breadcrumbs, tail_lines


def test_dsn_option_wins_over_the_environment() -> None:
    """--dsn is used even when SENTRY_DSN is set."""
    dsn = resolve_dsn("http://a@127.0.0.1/1", {"SENTRY_DSN": "http://b@127.0.0.1/2"})
    assert dsn.public_key == "a"


def test_dsn_falls_back_to_the_environment() -> None:
    """Without --dsn, SENTRY_DSN is used."""
    assert resolve_dsn(None, {"SENTRY_DSN": "http://b@127.0.0.1/2"}).project_id == "2"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_missing_dsn_is_exit_3(value: str | None) -> None:
    """No DSN at all, or an empty one, is a CliError with exit code 3."""
    with pytest.raises(CliError) as caught:
        resolve_dsn(value, {})
    assert caught.value.code == BAD_DSN


def test_pairs_split_on_equals_then_colon() -> None:
    """KEY=VALUE splits on the first '='; without one, sentry-cli's KEY:VALUE is accepted."""
    pairs = parse_pairs(["url=http://x/?a=b", "host:db1", "empty="], "--tag")
    assert pairs == {"url": "http://x/?a=b", "host": "db1", "empty": ""}


@pytest.mark.parametrize("raw", ["novalue", "=v"])
def test_malformed_pairs_are_usage_errors(raw: str) -> None:
    """A pair without a separator or a key is exit code 2, naming the option."""
    with pytest.raises(CliError, match="--extra") as caught:
        parse_pairs([raw], "--extra")
    assert caught.value.code == USAGE


def test_redact_masks_url_passwords_only() -> None:
    """The password part of URL credentials becomes ***; the rest of the text is kept."""
    text = "bad https://pub:sekrit@host/1 and http://user@h/2 at 10:30"
    assert redact(text) == "bad https://pub:***@host/1 and http://user@h/2 at 10:30"


def test_tail_reads_the_last_lines_of_a_large_log(tmp_path: Path) -> None:
    """The last N non-empty lines come back, even from a log far larger than one read block."""
    log = tmp_path / "big.log"
    log.write_text("".join(f"line {i}\n\n" for i in range(50_000)))
    assert tail_lines(str(log), 3) == ["line 49997", "line 49998", "line 49999"]


def test_tail_of_a_short_log_is_all_of_it(tmp_path: Path) -> None:
    """A log shorter than N lines is returned whole, first line included."""
    log = tmp_path / "short.log"
    log.write_text("one\ntwo")
    assert tail_lines(str(log), 100) == ["one", "two"]


def test_unreadable_log_is_exit_6(tmp_path: Path) -> None:
    """A missing log is a CliError with exit code 6."""
    with pytest.raises(CliError) as caught:
        tail_lines(str(tmp_path / "missing.log"), 10)
    assert caught.value.code == BAD_FILE


def test_breadcrumb_levels_come_from_level_words() -> None:
    """Level words map to breadcrumb levels; a line without one keeps the default level."""
    crumbs = log_breadcrumbs(["WARN low disk", "CRITICAL down", "just text"], "app.log")
    assert [c.get("level") for c in crumbs] == ["warning", "fatal", None]
    assert crumbs[0]["data"] == {"file": "app.log"}


def test_rate_limits_are_explained() -> None:
    """Each X-Sentry-Rate-Limits entry and Retry-After get a readable line."""
    lines = explain_rate_limits(
        {"x-sentry-rate-limits": "30::organization, 5:attachment", "retry-after": "30"}
    )
    assert lines == [
        "all paused for 30s, scope organization",
        "attachment paused for 5s",
        "Retry-After: 30",
    ]
    assert explain_rate_limits({}) == []
