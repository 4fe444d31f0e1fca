"""Statistics over repeated runs, the tripwire/sentry_sdk ratio, and the markdown table.

Pure functions only (no processes, no sockets), so the tests can pin them down.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

SDKS = ("tripwire", "sentry_sdk")

OK = "ok"
UNSUPPORTED = "unsupported"
ERROR = "error"


@dataclass(frozen=True)
class Summary:
    """Median, min and max of the values one SDK produced for one metric."""

    median: float
    low: float
    high: float
    count: int


def summarize(values: Iterable[float]) -> Summary | None:
    """Summarise finite values; None when there is none to summarise."""
    kept = sorted(v for v in values if isinstance(v, (int, float)) and math.isfinite(v))
    if not kept:
        return None
    return Summary(statistics.median(kept), kept[0], kept[-1], len(kept))


def ratio_of(mine: Summary | None, theirs: Summary | None) -> float | None:
    """tripwire median / sentry_sdk median; None when either is missing or theirs is zero."""
    if mine is None or theirs is None or theirs.median == 0:
        return None
    return mine.median / theirs.median


def fmt_num(value: float) -> str:
    """Three significant figures or so, without scientific notation for common sizes."""
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    if size >= 0.001:
        return f"{value:.3f}"
    return f"{value:.2g}"


def fmt_summary(summary: Summary | None) -> str:
    """``median (min–max)``, or just the median when every run gave the same figure."""
    if summary is None:
        return "–"
    if summary.count == 1 or summary.low == summary.high:
        return fmt_num(summary.median)
    return f"{fmt_num(summary.median)} ({fmt_num(summary.low)}–{fmt_num(summary.high)})"


def fmt_ratio(value: float | None) -> str:
    """The ratio as ``0.12×``; a dash when it cannot be computed."""
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f}×"
    if value >= 0.01:
        return f"{value:.2f}×"
    return f"{value:.1g}×"


@dataclass
class Cell:
    """What one SDK gave for one metric over all its runs."""

    status: str = OK
    values: list[float] = field(default_factory=list)
    note: str = ""

    def summary(self) -> Summary | None:
        return summarize(self.values) if self.status == OK else None

    def text(self) -> str:
        if self.status == UNSUPPORTED:
            return "unsupported"
        if self.status == ERROR:
            return "error" + (f": {self.note}" if self.note else "")
        return fmt_summary(self.summary())


@dataclass
class Row:
    """One metric of one workload, for every SDK."""

    workload: str
    metric: str
    unit: str
    better: str
    cells: dict[str, Cell] = field(default_factory=dict)

    def ratio(self) -> float | None:
        mine, theirs = self.cells.get(SDKS[0]), self.cells.get(SDKS[1])
        if mine is None or theirs is None:
            return None
        return ratio_of(mine.summary(), theirs.summary())

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "workload": self.workload,
            "metric": self.metric,
            "unit": self.unit,
            "better": self.better,
            "ratio": self.ratio(),
        }
        for sdk, cell in self.cells.items():
            s = cell.summary()
            out[sdk] = {
                "status": cell.status,
                "note": cell.note,
                "values": cell.values,
                "median": s.median if s else None,
                "min": s.low if s else None,
                "max": s.high if s else None,
            }
        return out


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Row]) -> str:
    """The report table: one line per metric, medians with min–max, and the ratio."""
    lines = [
        "| workload | metric | better | tripwire | sentry_sdk | ratio tw/sentry |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    previous = None
    for row in rows:
        name = row.workload if row.workload != previous else ""
        previous = row.workload
        metric = f"{row.metric} ({row.unit})" if row.unit else row.metric
        cells = [row.cells.get(sdk, Cell(status=ERROR, note="not run")).text() for sdk in SDKS]
        lines.append(
            "| "
            + " | ".join(
                _escape(x) for x in (name, metric, row.better, *cells, fmt_ratio(row.ratio()))
            )
            + " |"
        )
    return "\n".join(lines)


def machine_lines(machine: Mapping[str, object]) -> str:
    """The machine description as a markdown bullet list."""
    return "\n".join(f"- {key}: {value}" for key, value in machine.items())


def replace_between(text: str, start: str, end: str, new: str) -> str:
    """Replace what lies between two marker lines (markers kept); append them when absent."""
    i = text.find(start)
    j = text.find(end, i + len(start)) if i >= 0 else -1
    block = f"{start}\n{new.strip()}\n{end}"
    if i < 0 or j < 0:
        return text.rstrip("\n") + "\n\n" + block + "\n"
    return text[:i] + block + text[j + len(end) :]
