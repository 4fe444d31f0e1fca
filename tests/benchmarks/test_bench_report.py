"""The benchmark report: statistics, ratios, number formatting and the markdown table."""

from __future__ import annotations

import math

from benchmarks.report import (
    ERROR,
    UNSUPPORTED,
    Cell,
    Row,
    Summary,
    fmt_num,
    fmt_ratio,
    markdown_table,
    ratio_of,
    replace_between,
    summarize,
)


def test_summarize_gives_median_min_and_max() -> None:
    """The summary of repeated runs is their median with the lowest and highest value."""
    assert summarize([3.0, 1.0, 2.0, 10.0]) == Summary(2.5, 1.0, 10.0, 4)


def test_summarize_ignores_non_finite_values_and_empty_input() -> None:
    """NaN and infinities are left out, and nothing to summarise gives None."""
    assert summarize([math.nan, 4.0, math.inf]) == Summary(4.0, 4.0, 4.0, 1)
    assert summarize([]) is None
    assert summarize([math.nan]) is None


def test_ratio_is_tripwire_over_sentry_median() -> None:
    """The ratio divides tripwire's median by sentry_sdk's."""
    assert ratio_of(Summary(1.0, 0.5, 2.0, 3), Summary(4.0, 3.0, 5.0, 3)) == 0.25


def test_ratio_is_none_when_a_side_is_missing_or_zero() -> None:
    """No ratio is computed without both figures or against a zero median."""
    s = Summary(1.0, 1.0, 1.0, 1)
    assert ratio_of(None, s) is None
    assert ratio_of(s, None) is None
    assert ratio_of(s, Summary(0.0, 0.0, 0.0, 1)) is None


def test_fmt_num_keeps_about_three_significant_figures() -> None:
    """Numbers are printed with sensible precision for their size."""
    assert fmt_num(0) == "0"
    assert fmt_num(12345.6) == "12 346"
    assert fmt_num(12.345) == "12.3"
    assert fmt_num(1.2345) == "1.23"
    assert fmt_num(0.12345) == "0.123"
    assert fmt_num(0.00012345) == "0.00012"


def test_fmt_ratio() -> None:
    """Ratios are printed with a multiplication sign, a dash when unknown."""
    assert fmt_ratio(0.0512) == "0.05×"
    assert fmt_ratio(250.0) == "250×"
    assert fmt_ratio(None) == "–"


def test_cell_text_for_each_status() -> None:
    """A cell shows median (min–max), 'unsupported', or the error note."""
    assert Cell(values=[2.0, 1.0, 3.0]).text() == "2.00 (1.00–3.00)"
    assert Cell(values=[5.0]).text() == "5.00"
    assert Cell(status=UNSUPPORTED).text() == "unsupported"
    assert Cell(status=ERROR, note="boom").text() == "error: boom"


def test_row_ratio_needs_both_sdks_ok() -> None:
    """A row's ratio exists only when both SDKs produced figures."""
    row = Row(
        "w", "m", "ms", "lower", {"tripwire": Cell(values=[1.0]), "sentry_sdk": Cell(values=[4.0])}
    )
    assert row.ratio() == 0.25
    row.cells["tripwire"] = Cell(status=UNSUPPORTED)
    assert row.ratio() is None
    assert row.as_json()["tripwire"]["status"] == UNSUPPORTED  # type: ignore[index]


def test_markdown_table_groups_rows_of_one_workload() -> None:
    """The workload name is written once per group, each metric on its own line with its ratio."""
    rows = [
        Row(
            "calls",
            "set_tag",
            "µs/call",
            "lower",
            {"tripwire": Cell(values=[0.1]), "sentry_sdk": Cell(values=[0.5])},
        ),
        Row(
            "calls",
            "add_breadcrumb",
            "µs/call",
            "lower",
            {"tripwire": Cell(status=UNSUPPORTED), "sentry_sdk": Cell(values=[3.0])},
        ),
    ]
    lines = markdown_table(rows).splitlines()
    assert lines[0].startswith("| workload | metric |")
    assert lines[2] == "| calls | set_tag (µs/call) | lower | 0.100 | 0.500 | 0.20× |"
    assert lines[3] == "|  | add_breadcrumb (µs/call) | lower | unsupported | 3.00 | – |"


def test_markdown_table_escapes_pipes_in_notes() -> None:
    """An error note containing a pipe cannot break the table's columns."""
    rows = [
        Row(
            "w",
            "m",
            "",
            "lower",
            {"tripwire": Cell(status=ERROR, note="a|b"), "sentry_sdk": Cell(values=[1.0])},
        )
    ]
    assert "error: a\\|b" in markdown_table(rows)


def test_replace_between_markers() -> None:
    """The docs block between the markers is replaced and the rest of the page kept."""
    page = "# P\n\nintro\n<!-- s -->\nold\n<!-- e -->\nafter\n"
    assert replace_between(page, "<!-- s -->", "<!-- e -->", "new") == (
        "# P\n\nintro\n<!-- s -->\nnew\n<!-- e -->\nafter\n"
    )


def test_replace_between_appends_missing_markers() -> None:
    """A page without markers gets the block appended."""
    assert replace_between("# P\n", "<s>", "<e>", "t") == "# P\n\n<s>\nt\n<e>\n"
