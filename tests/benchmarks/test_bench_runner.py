"""The runner's subprocess plumbing: result and mark lines, exit timing, timeouts, sink counts."""

from __future__ import annotations

import sys

import pytest
from benchmarks.report import ERROR, OK
from benchmarks.run import classify, run_once
from benchmarks.sink import Sink
from benchmarks.suite import Context, Workload


def _workload(code: str, timeout_s: float = 30.0) -> Workload:
    def command(ctx: Context, sdk: str) -> list[str]:
        return [ctx.python, "-c", code, ctx.dsn]

    return Workload(
        name="t",
        title="t",
        metrics=(),
        command=command,
        derive=lambda raw: {"dsn_seen": 1.0},
        timeout_s=timeout_s,
    )


@pytest.fixture
def sink():
    with Sink() as s:
        yield s


def test_run_once_reads_result_and_times_exit_from_mark(sink: Sink, tmp_path) -> None:
    """The result line is parsed, and exit is timed from the mark line to the process end."""
    code = (
        "import sys, time; print('@@result {\"x\": 1}', flush=True); "
        "print('@@mark', flush=True); time.sleep(0.3)"
    )
    raw = run_once(_workload(code), "tripwire", sink, quick=True, cwd=str(tmp_path))
    assert raw.result == {"x": 1}
    assert raw.returncode == 0
    assert raw.exit_s is not None and 0.25 <= raw.exit_s < 10
    assert raw.mark_stats is not None and raw.final_stats is not None
    assert classify(_workload(code), raw)[0] == OK


def test_run_once_hands_a_fresh_sink_dsn_and_hides_sentry_env(
    sink: Sink, tmp_path, monkeypatch
) -> None:
    """Each run gets its own DSN on the sink, and SENTRY_* variables never reach the workload."""
    monkeypatch.setenv("SENTRY_DSN", "http://k@example.invalid/1")
    code = (
        "import json, os, sys; "
        "print('@@result ' + json.dumps({'dsn': sys.argv[1], 'env': os.environ.get('SENTRY_DSN')}))"
    )
    first = run_once(_workload(code), "tripwire", sink, quick=True, cwd=str(tmp_path))
    second = run_once(_workload(code), "sentry_sdk", sink, quick=True, cwd=str(tmp_path))
    assert first.result is not None and second.result is not None
    assert first.result["env"] is None
    assert first.result["dsn"].startswith(f"http://benchpublickey@127.0.0.1:{sink.port}/")
    assert first.result["dsn"] != second.result["dsn"]


def test_run_once_kills_a_workload_past_its_timeout(sink: Sink, tmp_path) -> None:
    """A hanging workload is killed at its timeout and reported as an error."""
    w = _workload("import time; time.sleep(30)", timeout_s=0.5)
    raw = run_once(w, "tripwire", sink, quick=True, cwd=str(tmp_path))
    assert raw.timed_out
    assert raw.wall_s < 10
    assert classify(w, raw)[0] == ERROR


def test_python_used_is_the_runner_interpreter(sink: Sink, tmp_path) -> None:
    """Workloads run under the same interpreter (and so the same environment) as the runner."""
    code = "import json, sys; print('@@result ' + json.dumps({'exe': sys.executable}))"
    raw = run_once(_workload(code), "tripwire", sink, quick=True, cwd=str(tmp_path))
    assert raw.result == {"exe": sys.executable}
