"""Run every workload for tripwire and sentry_sdk, alternating, each in a fresh subprocess.

Usage: ``python benchmarks/run.py [--quick] [--only calls,burst] [--update-docs]``
(``tox -e bench`` runs this). Progress goes to stderr; the markdown table to
stdout; everything to ``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import machine  # noqa: E402
from benchmarks.report import (  # noqa: E402
    ERROR,
    OK,
    SDKS,
    UNSUPPORTED,
    Cell,
    Row,
    machine_lines,
    markdown_table,
    replace_between,
)
from benchmarks.sink import Sink, dead_port  # noqa: E402
from benchmarks.suite import Context, Raw, Workload, by_name  # noqa: E402
from benchmarks.workloads._bench import MARK, RESULT_PREFIX  # noqa: E402

DOCS = ROOT / "docs" / "performance.md"
DOCS_START = "<!-- bench:start -->"
DOCS_END = "<!-- bench:end -->"


def _clean_env() -> dict[str, str]:
    """The environment for workloads: no SENTRY_* variable may point an SDK elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # import time counts cached bytecode
    return env


def run_once(workload: Workload, sdk: str, sink: Sink, quick: bool, cwd: str) -> Raw:
    """One fresh subprocess for one SDK; reads its result, its mark, and the sink's counts."""
    run_id = None
    if workload.sink_mode == "dead":
        dsn = f"http://benchpublickey@127.0.0.1:{dead_port()}/1"
    else:
        run_id = sink.new_run(workload.sink_mode or "ok")
        dsn = sink.dsn(run_id)
    argv = workload.command(Context(python=sys.executable, quick=quick, dsn=dsn), sdk)
    raw = Raw(sdk=sdk)
    t_start = time.perf_counter()
    t_mark = None
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as err:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            env=_clean_env(),
            cwd=cwd,
        )

        def kill() -> None:
            raw.timed_out = True
            proc.kill()

        watchdog = threading.Timer(workload.timeout_s, kill)
        watchdog.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith(RESULT_PREFIX):
                    raw.result = json.loads(line[len(RESULT_PREFIX) :])
                elif line.rstrip("\n") == MARK:
                    t_mark = time.perf_counter()
                    if run_id is not None:
                        raw.mark_stats = sink.stats(run_id)
            raw.returncode = proc.wait()
        finally:
            watchdog.cancel()
        t_end = time.perf_counter()
        err.seek(0)
        raw.stderr = err.read()
    raw.wall_s = t_end - t_start
    if t_mark is not None:
        raw.exit_s = t_end - t_mark
    if run_id is not None:
        raw.final_stats = sink.stats(run_id)
    return raw


def _last_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:120] if lines else ""


def classify(workload: Workload, raw: Raw) -> tuple[str, str, dict[str, float]]:
    """(status, note, metrics) of one run."""
    if raw.timed_out:
        return ERROR, f"timed out after {workload.timeout_s:.0f} s", {}
    if raw.result is not None and "unsupported" in raw.result:
        return UNSUPPORTED, str(raw.result["unsupported"]), {}
    if raw.returncode != 0 or (workload.needs_result and raw.result is None):
        return ERROR, _last_line(raw.stderr) or f"exit code {raw.returncode}", {}
    return OK, "", workload.derive(raw)


def run_workload(
    workload: Workload, sdks: list[str], sink: Sink, quick: bool, repeats: int | None, cwd: str
) -> list[Row]:
    rows = {
        m.key: Row(workload.title, m.label, m.unit, m.better, {sdk: Cell() for sdk in sdks})
        for m in workload.metrics
    }
    count = repeats or workload.repeat_count(quick)
    for i in range(count):
        for sdk in sdks:  # A and B alternate, so drifting machine load hits both
            raw = run_once(workload, sdk, sink, quick, cwd)
            status, note, metrics = classify(workload, raw)
            shown = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()) or note
            print(
                f"  [{workload.name} {i + 1}/{count}] {sdk:<10} {status:<11} "
                f"{raw.wall_s:6.2f}s  {shown}",
                file=sys.stderr,
                flush=True,
            )
            for key, row in rows.items():
                cell = row.cells[sdk]
                if status != OK:
                    # An unsupported/failed run marks the cell unless other runs succeeded.
                    if not cell.values:
                        cell.status, cell.note = status, note
                    continue
                if key in metrics:
                    cell.status, cell.note = OK, ""
                    cell.values.append(metrics[key])
    return list(rows.values())


def _warm_up(sdks: list[str], cwd: str) -> None:
    """Import each SDK once so bytecode caches exist before import time is measured."""
    for sdk in sdks:
        subprocess.run(
            [sys.executable, "-c", f"import {sdk}"],
            cwd=cwd,
            env=_clean_env(),
            capture_output=True,
            check=False,
            timeout=60,
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats and iterations (< 2 min)")
    p.add_argument("--only", help="comma-separated workload names to run")
    p.add_argument("--repeats", type=int, help="override the repeats of every workload")
    p.add_argument("--sdk", default=",".join(SDKS), help="comma-separated SDKs (default both)")
    p.add_argument(
        "--json", default=str(ROOT / "benchmarks" / "results" / "latest.json"), help="JSON output"
    )
    p.add_argument(
        "--update-docs", action="store_true", help=f"write the table into {DOCS.relative_to(ROOT)}"
    )
    args = p.parse_args(argv)
    sdks = [s for s in args.sdk.split(",") if s]
    workloads = by_name(args.only)
    info = machine.describe()
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tripwire-bench-") as cwd, Sink() as sink:
        _warm_up(sdks, cwd)
        for workload in workloads:
            print(f"{workload.name}: {workload.title}", file=sys.stderr, flush=True)
            rows += run_workload(workload, sdks, sink, args.quick, args.repeats, cwd)
    duration = time.perf_counter() - t0
    table = markdown_table(rows)
    mode = "quick" if args.quick else "full"
    header = (
        f"Run {started:%Y-%m-%d %H:%M} UTC, {mode} mode, {duration:.0f} s. "
        "Each cell: median (min–max) over fresh processes; ratio = tripwire median / sentry_sdk median."
    )
    print(f"{header}\n\n{table}\n\nMachine:\n{machine_lines(info)}")

    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "started": started.isoformat(),
                "mode": mode,
                "duration_s": duration,
                "machine": info,
                "rows": [row.as_json() for row in rows],
                "markdown": table,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out}", file=sys.stderr)
    if args.update_docs:
        block = f"{header}\n\n{table}\n\nMachine:\n\n{machine_lines(info)}\n"
        text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Performance\n"
        DOCS.write_text(replace_between(text, DOCS_START, DOCS_END, block), encoding="utf-8")
        print(f"updated {DOCS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
