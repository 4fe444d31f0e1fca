"""What every workload script shares: picking the SDK, timing, and talking to the runner.

A workload script runs in a fresh interpreter for one SDK (``--sdk tripwire`` or
``--sdk sentry_sdk``) and writes lines the runner reads:

* ``@@result {json}``: its measurements (or ``{"unsupported": reason}``);
* ``@@mark``: "my work is done" — the runner notes the time and the sink's
  counts, and measures interpreter exit from there.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Callable, NoReturn

RESULT_PREFIX = "@@result "
MARK = "@@mark"

# The API both SDKs share; a workload asks for what it calls.
BASE_API = ("init", "capture_message", "capture_exception", "add_breadcrumb", "set_tag", "flush")


def emit(result: dict[str, object]) -> None:
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def mark() -> None:
    print(MARK, flush=True)


def unsupported(reason: str) -> NoReturn:
    emit({"unsupported": reason})
    sys.exit(0)


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--sdk", required=True, choices=("tripwire", "sentry_sdk"))
    p.add_argument("--dsn", default=None)
    p.add_argument("--quick", action="store_true")
    return p


def load_sdk(name: str, needs: Sequence[str] = BASE_API) -> ModuleType:
    """Import the SDK, or report "unsupported" when it lacks something this workload calls."""
    try:
        sdk = importlib.import_module(name)
    except ImportError as exc:
        unsupported(f"cannot import {name}: {exc}")
    missing = [attr for attr in needs if not callable(getattr(sdk, attr, None))]
    if missing:
        unsupported(f"{name} has no {', '.join(missing)}")
    return sdk


def init_sdk(sdk: ModuleType, dsn: str | None, **options: Any) -> object:
    """``sdk.init(...)``; an option the SDK does not know makes the workload unsupported."""
    try:
        return sdk.init(dsn=dsn, **options) if dsn is not None else sdk.init(**options)
    except (TypeError, AttributeError, NotImplementedError) as exc:
        unsupported(f"init({', '.join(options)}) failed: {type(exc).__name__}: {exc}")


def maxrss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def reset_peak_rss() -> None:
    """Make the peak RSS start from the current RSS (Linux), so growth is measured from here.

    Without it ``ru_maxrss`` keeps an earlier peak (start-up, imports) and a
    smaller peak reached later shows as no growth at all.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        pass  # elsewhere the peak since start is the best figure there is


def us_per_call(batch: Callable[[int], int], batches: int, per_batch: int) -> float:
    """Median over batches of (batch time / calls): robust to one batch hit by a GC or a flush."""
    figures = []
    for _ in range(batches):
        ns = batch(per_batch)
        figures.append(ns / per_batch / 1000.0)
    return statistics.median(figures)


def timed_loop(fn: Callable[[], object]) -> Callable[[int], int]:
    """A batch that calls ``fn`` n times and returns the nanoseconds it took."""

    def batch(n: int) -> int:
        clock = time.perf_counter_ns
        t0 = clock()
        for _ in range(n):
            fn()
        return clock() - t0

    return batch


# --- an exception raised 12 frames deep, a few locals in each frame ---

DEPTH = 12


def _frame(remaining: int, label: str) -> None:
    count = remaining * 3
    name = f"{label}-{remaining}"
    items = [remaining, count, name]
    info = {"depth": remaining, "name": name, "ok": True}
    if remaining <= 1:
        raise ValueError(f"failed at depth {DEPTH} ({name}, {len(items)} items, {info['ok']})")
    _frame(remaining - 1, label)


def deep_exception(label: str = "bench") -> BaseException:
    """A fresh exception whose traceback has exactly ``DEPTH`` frames, this one included."""
    try:
        _frame(DEPTH - 1, label)
    except ValueError as exc:
        return exc
    raise AssertionError("unreachable")


def timed_captures(sdk: ModuleType, count: int, label: str = "bench") -> list[int]:
    """Capture ``count`` fresh deep exceptions; the nanoseconds each capture call took."""
    clock = time.perf_counter_ns
    out = []
    for i in range(count):
        exc = deep_exception(f"{label}{i}")
        t0 = clock()
        sdk.capture_exception(exc)
        out.append(clock() - t0)
        del exc
    return out


def quiet_gc() -> None:
    """Start measurements from a collected heap, the same for both SDKs."""
    gc.collect()
