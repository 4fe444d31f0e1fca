"""The workloads: how to start each one, and how its raw output becomes metrics.

A workload is a subprocess command per SDK plus a ``derive`` function turning
what the process printed, and what the sink counted, into named figures.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from benchmarks.sink import OK_MODE, RATE_LIMITED_MODE, RunStats

WORKLOADS_DIR = Path(__file__).resolve().parent / "workloads"

LOWER = "lower"
HIGHER = "higher"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    better: str = LOWER


@dataclass
class Raw:
    """What one subprocess run produced."""

    sdk: str
    returncode: int | None = None
    result: dict[str, object] | None = None
    stderr: str = ""
    mark_stats: RunStats | None = None
    final_stats: RunStats | None = None
    exit_s: float | None = None
    wall_s: float = 0.0
    timed_out: bool = False


@dataclass(frozen=True)
class Context:
    python: str
    quick: bool
    dsn: str  # a fresh run's DSN on the sink (or the dead port)


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    metrics: tuple[Metric, ...]
    command: Callable[[Context, str], list[str]]
    derive: Callable[[Raw], dict[str, float]]
    repeats: tuple[int, int] = (5, 2)  # (full, quick)
    sink_mode: str | None = OK_MODE  # None: no sink needed; "dead": a closed port
    needs_result: bool = True
    timeout_s: float = 120.0
    extra: Mapping[str, object] = field(default_factory=dict)

    def repeat_count(self, quick: bool) -> int:
        return self.repeats[1] if quick else self.repeats[0]


def script(name: str, *extra: str) -> Callable[[Context, str], list[str]]:
    """A command running ``workloads/<name>.py`` for one SDK."""

    def command(ctx: Context, sdk: str) -> list[str]:
        argv = [ctx.python, str(WORKLOADS_DIR / f"{name}.py"), "--sdk", sdk, "--dsn", ctx.dsn]
        if ctx.quick and name != "init_time":
            argv.append("--quick")
        return [*argv, *extra]

    return command


# --- 1. import time ---

_IMPORTTIME = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|(\s*)(\S+)\s*$")


def importtime_us(stderr: str, package: str) -> float | None:
    """Cumulative µs of the top-level ``package`` line of ``python -X importtime`` output."""
    best = None
    for line in stderr.splitlines():
        m = _IMPORTTIME.match(line)
        if m and m.group(4) == package:
            indent = len(m.group(3))
            if best is None or indent < best[0]:
                best = (indent, float(m.group(2)))
    return best[1] if best else None


def _import_command(ctx: Context, sdk: str) -> list[str]:
    return [ctx.python, "-X", "importtime", "-c", f"import {sdk}"]


def _derive_import(raw: Raw) -> dict[str, float]:
    us = importtime_us(raw.stderr, raw.sdk)
    return {} if us is None else {"import_ms": us / 1000}


def _num(result: Mapping[str, object] | None, key: str, default: float = 0.0) -> float:
    value = (result or {}).get(key)
    return float(value) if isinstance(value, (int, float)) else default


def _pick(raw: Raw, *keys: str) -> dict[str, float]:
    result = raw.result or {}
    return {k: float(v) for k in keys if isinstance(v := result.get(k), (int, float))}


# --- 3. burst ---


def _derive_burst(raw: Raw) -> dict[str, float]:
    sent, total_s = _num(raw.result, "sent"), _num(raw.result, "total_s")
    at_flush = raw.mark_stats.events if raw.mark_stats else 0
    final = raw.final_stats.events if raw.final_stats else at_flush
    out = {
        "delivered_flush": float(at_flush),
        "delivered_exit": float(final),
        "dropped": sent - final,
        "flush_s": _num(raw.result, "flush_s"),
    }
    if total_s > 0:
        out["events_per_s"] = at_flush / total_s
    return out


# --- 4. failing servers ---


def _derive_failing(raw: Raw) -> dict[str, float]:
    out = _pick(raw, "capture_message_us", "rss_growth_mb", "flush_s")
    if raw.exit_s is not None:
        out["exit_s"] = raw.exit_s
    stats = raw.final_stats
    if stats is not None and stats.mode == RATE_LIMITED_MODE:
        out["requests_after_429"] = float(stats.requests_after_429)
    return out


# --- 5. serializer stress ---

SERIALIZER_CASES = ("dict_100k", "list_1000_deep", "repr_raises", "string_10mb", "recursive")


def _derive_serializer(raw: Raw) -> dict[str, float]:
    result = raw.result or {}
    stats = raw.final_stats or RunStats()
    out: dict[str, float] = {}
    for case in SERIALIZER_CASES:
        figures = result.get(case)
        if not isinstance(figures, dict):
            continue
        captured = _num(figures, "captured")
        arrived = stats.case_events.get(case, 0)
        out[f"{case}_ms"] = _num(figures, "ms_per_capture")
        out[f"{case}_arrived"] = arrived / captured if captured else 0.0
        sent = stats.case_sent.get(case, 0)
        if sent:  # refused (413) events crossed the wire too
            out[f"{case}_kb"] = stats.case_wire_bytes.get(case, 0) / sent / 1024
    return out


def _serializer_metrics() -> tuple[Metric, ...]:
    metrics = []
    for case in SERIALIZER_CASES:
        metrics += [
            Metric(f"{case}_ms", f"{case}: capture", "ms"),
            Metric(f"{case}_arrived", f"{case}: arrived", "fraction", HIGHER),
            Metric(f"{case}_kb", f"{case}: on the wire", "KiB/event"),
        ]
    return tuple(metrics)


# --- 6. minidump ---


def _derive_minidump(raw: Raw) -> dict[str, float]:
    out = _pick(raw, "capture_ms", "total_ms", "rss_growth_mb")
    if raw.final_stats is not None:
        out["delivered"] = float(raw.final_stats.events)
    return out


def _failing(name: str, title: str, mode: str) -> Workload:
    metrics = [
        Metric("capture_message_us", "capture_message, caller thread", "µs/call"),
        Metric("rss_growth_mb", "peak RSS growth over the captures", "MiB"),
        Metric("flush_s", "flush(2)", "s"),
        Metric("exit_s", "interpreter exit after the last call", "s"),
    ]
    if mode == RATE_LIMITED_MODE:
        metrics.append(Metric("requests_after_429", "requests after the first 429", "requests"))
    return Workload(
        name=name,
        title=title,
        metrics=tuple(metrics),
        command=lambda ctx, sdk: [
            *script("failing_server")(ctx, sdk),
            "--captures",
            "2000" if ctx.quick else "10000",
        ],
        derive=_derive_failing,
        repeats=(3, 1),
        sink_mode=mode,
    )


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        name="import",
        title="1. import time (-X importtime, cumulative)",
        metrics=(Metric("import_ms", "import", "ms"),),
        command=_import_command,
        derive=_derive_import,
        repeats=(7, 3),
        sink_mode=None,
        needs_result=False,
        timeout_s=60,
    ),
    Workload(
        name="init",
        title="1. import + init(dsn=...) wall time",
        metrics=(Metric("import_init_ms", "import + init(dsn)", "ms"),),
        command=script("init_time"),
        derive=lambda raw: _pick(raw, "import_init_ms"),
        repeats=(7, 3),
        timeout_s=60,
    ),
    Workload(
        name="calls",
        title="2. caller-thread time per call (loopback sink)",
        metrics=(
            Metric("capture_message_us", "capture_message", "µs/call"),
            Metric("capture_exception_us", "capture_exception, 12 frames, locals on", "µs/call"),
            Metric("add_breadcrumb_us", "add_breadcrumb", "µs/call"),
            Metric("set_tag_us", "set_tag", "µs/call"),
        ),
        command=script("calls", "--mode", "enabled"),
        derive=lambda raw: _pick(
            raw, "capture_message_us", "capture_exception_us", "add_breadcrumb_us", "set_tag_us"
        ),
    ),
    Workload(
        name="calls-nolocals",
        title="2. caller-thread time, locals off",
        metrics=(
            Metric("capture_exception_us", "capture_exception, 12 frames, locals off", "µs/call"),
        ),
        command=script("calls", "--mode", "nolocals"),
        derive=lambda raw: _pick(raw, "capture_exception_us"),
    ),
    Workload(
        name="calls-disabled",
        title="2. disabled SDK (init without dsn)",
        metrics=(
            Metric("capture_message_us", "capture_message", "µs/call"),
            Metric("capture_exception_us", "capture_exception", "µs/call"),
            Metric("add_breadcrumb_us", "add_breadcrumb", "µs/call"),
            Metric("set_tag_us", "set_tag", "µs/call"),
        ),
        command=script("calls", "--mode", "disabled"),
        derive=lambda raw: _pick(
            raw, "capture_message_us", "capture_exception_us", "add_breadcrumb_us", "set_tag_us"
        ),
        sink_mode=None,
    ),
    Workload(
        name="burst",
        title="3. burst of 2 000 messages + 500 exceptions, then flush()",
        metrics=(
            Metric("delivered_flush", "delivered when flush() returned", "events", HIGHER),
            Metric("delivered_exit", "delivered by process exit", "events", HIGHER),
            Metric("dropped", "dropped (of 2 500)", "events"),
            Metric("events_per_s", "throughput until flush() returned", "events/s", HIGHER),
            Metric("flush_s", "flush()", "s"),
        ),
        command=script("burst"),
        derive=_derive_burst,
        repeats=(3, 1),
    ),
    _failing("dead-port", "4. dead port (connection refused)", "dead"),
    _failing("429", "4. sink answering 429 + Retry-After: 60", RATE_LIMITED_MODE),
    Workload(
        name="serializer",
        title="5. serializer stress (capture_exception with hostile locals)",
        metrics=_serializer_metrics(),
        command=lambda ctx, sdk: [
            *script("serializer")(ctx, sdk),
            "--repeat",
            "1" if ctx.quick else "2",
        ],
        derive=_derive_serializer,
        repeats=(3, 1),
        timeout_s=180,
    ),
    Workload(
        name="minidump",
        title="6. minidump upload, 100 MB file",
        metrics=(
            Metric("capture_ms", "capture_minidump, caller thread", "ms"),
            Metric("total_ms", "capture + flush", "ms"),
            Metric("rss_growth_mb", "peak RSS growth", "MiB"),
            Metric("delivered", "delivered", "events", HIGHER),
        ),
        command=script("minidump"),
        derive=_derive_minidump,
        repeats=(3, 1),
    ),
)


def by_name(names: str | None) -> list[Workload]:
    """The workloads to run: all, or a comma-separated selection (unknown names exit)."""
    if not names:
        return list(WORKLOADS)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {w.name: w for w in WORKLOADS}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        sys.exit(f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in wanted]
