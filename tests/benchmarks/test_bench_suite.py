"""The benchmark workload table: importtime parsing, metric derivation, run classification."""

from __future__ import annotations

from benchmarks.report import ERROR, OK, UNSUPPORTED
from benchmarks.run import classify
from benchmarks.sink import RATE_LIMITED_MODE, RunStats
from benchmarks.suite import WORKLOADS, Raw, by_name, importtime_us

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:       300 |       4500 |     tripwire._dsn
import time:       210 |       4800 |   tripwire.errors
import time:       900 |      40180 | tripwire
"""


def _workload(name: str):
    return by_name(name)[0]


def test_importtime_takes_cumulative_of_top_level_package() -> None:
    """The import figure is the cumulative µs of the package's own, least indented line."""
    assert importtime_us(IMPORTTIME, "tripwire") == 40180.0
    assert importtime_us(IMPORTTIME, "sentry_sdk") is None


def test_every_workload_has_unique_name_and_metrics() -> None:
    """Workload names are unique and each one declares at least one metric."""
    names = [w.name for w in WORKLOADS]
    assert len(names) == len(set(names))
    assert all(w.metrics for w in WORKLOADS)


def test_burst_derives_delivered_dropped_and_rate() -> None:
    """The burst counts what arrived by flush() and by exit, and the events per second."""
    raw = Raw(
        sdk="tripwire",
        returncode=0,
        result={"sent": 2500, "total_s": 2.0, "flush_s": 0.5},
        mark_stats=RunStats(events=2000),
        final_stats=RunStats(events=2400),
    )
    m = _workload("burst").derive(raw)
    assert m == {
        "delivered_flush": 2000,
        "delivered_exit": 2400,
        "dropped": 100,
        "flush_s": 0.5,
        "events_per_s": 1000,
    }


def test_429_derives_requests_after_first_429_and_exit_time() -> None:
    """The 429 workload reports requests after the first 429 and the measured exit time."""
    raw = Raw(
        sdk="sentry_sdk",
        returncode=0,
        result={"capture_message_us": 5.0, "rss_growth_mb": 1.0, "flush_s": 0.01},
        final_stats=RunStats(mode=RATE_LIMITED_MODE, requests_after_429=3),
        exit_s=0.2,
    )
    m = _workload("429").derive(raw)
    assert m["requests_after_429"] == 3
    assert m["exit_s"] == 0.2


def test_serializer_survival_comes_from_the_sink() -> None:
    """Arrival is the share of captures the sink accepted; size averages every event sent."""
    raw = Raw(
        sdk="tripwire",
        returncode=0,
        result={"dict_100k": {"captured": 2, "ms_per_capture": 3.0}},
        final_stats=RunStats(
            case_events={"dict_100k": 1},
            case_sent={"dict_100k": 2},
            case_wire_bytes={"dict_100k": 4096},
        ),
    )
    m = _workload("serializer").derive(raw)
    assert m == {"dict_100k_ms": 3.0, "dict_100k_arrived": 0.5, "dict_100k_kb": 2.0}


def test_classify_unsupported_error_and_ok() -> None:
    """An unsupported marker, a crash, a missing result and a good run are told apart."""
    w = _workload("calls")
    assert classify(w, Raw(sdk="x", returncode=0, result={"unsupported": "no init"}))[:2] == (
        UNSUPPORTED,
        "no init",
    )
    assert classify(w, Raw(sdk="x", returncode=1, stderr="Traceback\nValueError: bad\n"))[:2] == (
        ERROR,
        "ValueError: bad",
    )
    assert classify(w, Raw(sdk="x", returncode=0))[0] == ERROR
    assert classify(w, Raw(sdk="x", returncode=0, timed_out=True))[0] == ERROR
    status, _, metrics = classify(w, Raw(sdk="x", returncode=0, result={"set_tag_us": 0.5}))
    assert (status, metrics) == (OK, {"set_tag_us": 0.5})
