"""The benchmark sink: decoding and counting bodies, per-run modes over real loopback HTTP."""

from __future__ import annotations

import gzip
import http.client
import json
import socket

import pytest
from benchmarks.sink import (
    MAX_EVENT_BYTES,
    RATE_LIMITED_MODE,
    Sink,
    count_body,
    dead_port,
    event_case,
    parse_envelope,
)


def _envelope(*items: tuple[dict[str, object], bytes], with_length: bool = True) -> bytes:
    lines = [json.dumps({"event_id": "a" * 32}).encode()]
    for header, payload in items:
        h = dict(header, length=len(payload)) if with_length else header
        lines += [json.dumps(h).encode(), payload]
    return b"\n".join(lines) + b"\n"


def _event(case: str | None = None) -> bytes:
    event: dict[str, object] = {"event_id": "b" * 32, "message": "hi\nthere"}
    if case is not None:
        event["tags"] = {"bench_case": case}
    return json.dumps(event).encode()


@pytest.fixture
def sink():
    with Sink() as s:
        yield s


def _post(sink: Sink, run_id: str, body: bytes, kind: str = "envelope", encoding: str = "gzip"):
    conn = http.client.HTTPConnection("127.0.0.1", sink.port, timeout=5)
    try:
        data = gzip.compress(body) if encoding == "gzip" else body
        conn.request(
            "POST",
            f"/api/{run_id}/{kind}/",
            body=data,
            headers={"Content-Encoding": encoding, "Content-Type": "application/x-sentry-envelope"},
        )
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_parse_envelope_with_and_without_length() -> None:
    """Items are split by their length header, or by newline when it is absent."""
    binary = b"\x00\n\x01"
    data = _envelope(({"type": "event"}, _event()), ({"type": "attachment"}, binary))
    assert [(h["type"], p) for h, p in parse_envelope(data)] == [
        ("event", _event()),
        ("attachment", binary),
    ]
    plain = _envelope(
        ({"type": "event"}, b'{"a":1}'), ({"type": "client_report"}, b"{}"), with_length=False
    )
    assert [h["type"] for h, _ in parse_envelope(plain)] == ["event", "client_report"]


def test_count_body_counts_events_and_cases_in_gzip_envelope() -> None:
    """A gzip envelope's event items are counted, other items listed, bench cases read from tags."""
    data = _envelope(({"type": "event"}, _event("big")), ({"type": "client_report"}, b"{}"))
    counted = count_body("envelope", gzip.compress(data), "gzip")
    assert counted.events == 1
    assert counted.items == {"event": 1, "client_report": 1}
    assert counted.cases == ["big"]
    assert counted.decoded_bytes == len(data)


def test_count_body_store_endpoint_is_one_event() -> None:
    """A legacy store body is one event."""
    counted = count_body("store", _event("x"), None)
    assert (counted.events, counted.cases) == (1, ["x"])


def test_count_body_marks_events_over_relay_limit() -> None:
    """An event over 1 MiB is counted as oversized, not as an event."""
    big = json.dumps({"extra": {"v": "y" * MAX_EVENT_BYTES}}).encode()
    counted = count_body("envelope", _envelope(({"type": "event"}, big)), "identity")
    assert (counted.events, counted.oversized) == (0, 1)


def test_count_body_minidump_streams_gzip() -> None:
    """A gzip multipart minidump upload counts as one event with its decompressed size."""
    body = (
        b'--b\r\nContent-Disposition: form-data; name="upload_file_minidump"\r\n\r\nMDMP'
        + b"\0" * 3_000_000
    )
    counted = count_body("minidump", gzip.compress(body), "gzip")
    assert (counted.events, counted.decoded_bytes) == (1, len(body))


def test_event_case_reads_tags_as_pairs() -> None:
    """Tags sent as a list of pairs are understood too."""
    assert event_case(json.dumps({"tags": [["a", "b"], ["bench_case", "c"]]}).encode()) == "c"
    assert event_case(b'{"tags": {}}') is None


def test_ok_mode_answers_200_with_id_and_counts_per_run(sink: Sink) -> None:
    """Each run has its own counters, and the ok mode answers 200 with a JSON id."""
    a, b = sink.new_run(), sink.new_run()
    status, _, body = _post(sink, a, _envelope(({"type": "event"}, _event())))
    assert status == 200
    assert len(json.loads(body)["id"]) == 32
    _post(sink, a, _envelope(({"type": "event"}, _event())), encoding="identity")
    assert sink.stats(a).events == 2
    assert sink.stats(a).requests == 2
    assert sink.stats(b).events == 0


def test_429_mode_sets_retry_after_and_counts_later_requests(sink: Sink) -> None:
    """The 429 mode answers Retry-After: 60 and counts requests that came after the first 429."""
    run = sink.new_run(RATE_LIMITED_MODE)
    for _ in range(3):
        status, headers, _ = _post(sink, run, _envelope(({"type": "event"}, _event())))
        assert status == 429
        assert headers["Retry-After"] == "60"
    stats = sink.stats(run)
    assert (stats.requests, stats.requests_after_429, stats.events, stats.rejected_events) == (
        3,
        2,
        0,
        3,
    )


def test_oversized_event_gets_413(sink: Sink) -> None:
    """Like Relay, the sink refuses an event over 1 MiB with 413 and does not count it as delivered."""
    run = sink.new_run()
    big = json.dumps({"extra": {"v": "y" * MAX_EVENT_BYTES}}).encode()
    big = json.dumps({"tags": {"bench_case": "huge"}, "extra": {"v": "y" * MAX_EVENT_BYTES}})
    status, _, _ = _post(sink, run, _envelope(({"type": "event"}, big.encode())))
    assert status == 413
    stats = sink.stats(run)
    assert (stats.events, stats.oversized_events) == (0, 1)
    assert (stats.case_events, stats.case_sent) == ({}, {"huge": 1})
    assert stats.case_wire_bytes["huge"] > 0


def test_undecodable_body_is_counted_not_fatal(sink: Sink) -> None:
    """A body that does not decode is counted as undecodable and still answered."""
    run = sink.new_run()
    status, _, _ = _post(sink, run, b"not gzip at all", encoding="identity-but-wrong")
    assert status == 200
    assert sink.stats(run).undecodable == 1


def test_dead_port_refuses_connections() -> None:
    """Nothing listens on the dead port."""
    port = dead_port()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
