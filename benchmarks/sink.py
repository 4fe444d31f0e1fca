"""A loopback Sentry-compatible sink that decompresses and counts what it receives.

Each benchmark run gets its own project id (``sink.new_run(mode)``), so the
counts of one subprocess never mix with another's, and the mode (``ok`` answers
200 with an id, ``429`` answers 429 with ``Retry-After: 60``) is chosen per run.
Counting happens before the response is written: when an SDK's ``flush()``
returns after seeing the answer, the sink's figures already include it.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OK_MODE = "ok"
RATE_LIMITED_MODE = "429"

_PATH = re.compile(r"^/api/(\d+)/(envelope|store|minidump)/?(?:\?.*)?$")
_CHUNK = 1 << 20
MAX_EVENT_BYTES = 1024 * 1024  # Relay's default max_event_size: larger events get a 413


@dataclass
class Counted:
    """What one request body held, once decoded."""

    events: int = 0
    items: dict[str, int] = field(default_factory=dict)
    decoded_bytes: int = 0
    cases: list[str] = field(default_factory=list)  # bench cases of the delivered events
    oversized: int = 0
    oversized_cases: list[str] = field(default_factory=list)


@dataclass
class RunStats:
    """Everything the sink saw for one run (one project id)."""

    mode: str = OK_MODE
    requests: int = 0
    responses_429: int = 0
    requests_after_429: int = 0
    events: int = 0
    rejected_events: int = 0
    oversized_events: int = 0
    items: dict[str, int] = field(default_factory=dict)
    wire_bytes: int = 0
    decoded_bytes: int = 0
    undecodable: int = 0
    first_request_at: float | None = None
    last_request_at: float | None = None
    case_events: dict[str, int] = field(default_factory=dict)  # delivered
    case_sent: dict[str, int] = field(default_factory=dict)  # delivered or refused as too large
    case_wire_bytes: dict[str, int] = field(default_factory=dict)  # of every request carrying one

    def copy(self) -> RunStats:
        return replace(
            self,
            items=dict(self.items),
            case_events=dict(self.case_events),
            case_sent=dict(self.case_sent),
            case_wire_bytes=dict(self.case_wire_bytes),
        )


def decode_body(body: bytes, encoding: str | None) -> bytes:
    """Undo ``Content-Encoding`` (gzip, deflate, br when brotli is installed, identity)."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return body
    if enc in ("gzip", "x-gzip"):
        return gzip.decompress(body)
    if enc == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)
    if enc == "br":
        import brotli  # type: ignore[import-not-found]

        return bytes(brotli.decompress(body))
    raise ValueError(f"unknown content encoding {encoding!r}")


def gzip_size_and_head(body: bytes, head_bytes: int = 4096) -> tuple[int, bytes]:
    """Decompressed size of a gzip body and its first bytes, without holding it whole."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    size, head, data = 0, b"", body
    while data:
        out = d.decompress(data, _CHUNK)
        size += len(out)
        if len(head) < head_bytes:
            head += out[: head_bytes - len(head)]
        data = d.unconsumed_tail
        if not out and not data:
            break
    size += len(d.flush())
    return size, head


def parse_envelope(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    """Split an envelope into ``(item header, payload)`` pairs (the envelope header is skipped)."""
    end = data.find(b"\n")
    pos = len(data) if end < 0 else end + 1
    items: list[tuple[dict[str, object], bytes]] = []
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            end = len(data)
        line = data[pos:end].strip()
        pos = end + 1
        if not line:
            continue
        header = json.loads(line)
        if not isinstance(header, dict):
            raise ValueError("item header is not an object")
        length = header.get("length")
        if isinstance(length, int):
            payload = data[pos : pos + length]
            pos += length
            if data[pos : pos + 1] == b"\n":
                pos += 1
        else:
            end = data.find(b"\n", pos)
            if end < 0:
                end = len(data)
            payload = data[pos:end]
            pos = end + 1
        items.append((header, payload))
    return items


def event_case(payload: bytes) -> str | None:
    """The ``bench_case`` tag of an event payload, whether tags are a dict or pairs."""
    if b"bench_case" not in payload:
        return None
    try:
        tags = json.loads(payload).get("tags")
    except (ValueError, AttributeError):
        return None
    if isinstance(tags, dict):
        value = tags.get("bench_case")
    elif isinstance(tags, list):
        value = next(
            (p[1] for p in tags if isinstance(p, list) and len(p) == 2 and p[0] == "bench_case"),
            None,
        )
    else:
        value = None
    return str(value) if value is not None else None


def count_body(kind: str, body: bytes, encoding: str | None) -> Counted:
    """Count the events in one request body for an endpoint kind (envelope, store, minidump)."""
    if kind == "minidump":
        enc = (encoding or "").lower()
        if enc in ("gzip", "x-gzip"):
            size, head = gzip_size_and_head(body)
        else:
            data = decode_body(body, encoding)
            size, head = len(data), data[:4096]
        return Counted(
            events=1 if b"upload_file_minidump" in head else 0,
            items={"minidump": 1},
            decoded_bytes=size,
        )
    data = decode_body(body, encoding)
    counted = Counted(decoded_bytes=len(data))
    if kind == "store":
        pairs: list[tuple[dict[str, object], bytes]] = [({"type": "event"}, data)]
    else:
        pairs = parse_envelope(data)
    for header, payload in pairs:
        item_type = str(header.get("type"))
        counted.items[item_type] = counted.items.get(item_type, 0) + 1
        if item_type == "event":
            case = event_case(payload)
            if len(payload) > MAX_EVENT_BYTES:
                counted.oversized += 1
                if case is not None:
                    counted.oversized_cases.append(case)
                continue
            counted.events += 1
            if case is not None:
                counted.cases.append(case)
        elif item_type == "attachment" and header.get("attachment_type") == "event.minidump":
            counted.items["minidump"] = counted.items.get("minidump", 0) + 1
    return counted


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, each response
    # waits for the client's delayed ACK (~40 ms) and the sink becomes the bottleneck.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # the benchmark's stdout is the report

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self._read_body()
        match = _PATH.match(self.path)
        if match is None:
            self._reply(404, b'{"detail":"unknown endpoint"}', {"Content-Type": "application/json"})
            return
        run_id, kind = match.group(1), match.group(2)
        try:
            counted: Counted | None = count_body(kind, body, self.headers.get("Content-Encoding"))
        except Exception:
            counted = None
        mode = self.server.sink.record(run_id, len(body), counted)
        if counted is not None and counted.oversized and mode != RATE_LIMITED_MODE:
            self._reply(413, b'{"detail":"event too large"}', {"Content-Type": "application/json"})
            return
        if mode == RATE_LIMITED_MODE:
            self._reply(
                429,
                b'{"detail":"rate limited"}',
                {"Content-Type": "application/json", "Retry-After": "60"},
            )
            return
        reply = json.dumps({"id": uuid.uuid4().hex}).encode()
        self._reply(200, reply, {"Content-Type": "application/json"})

    def do_GET(self) -> None:
        self._reply(404, b"", {})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sink: Sink


class Sink:
    """The loopback server plus its per-run counters; use as a context manager."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunStats] = {}
        self._next = 1
        self._server = _Server((host, 0), _Handler)
        self._server.sink = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Sink:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def new_run(self, mode: str = OK_MODE) -> str:
        """A fresh project id whose requests are answered in ``mode`` and counted apart."""
        with self._lock:
            run_id = str(self._next)
            self._next += 1
            self._runs[run_id] = RunStats(mode=mode)
        return run_id

    def dsn(self, run_id: str) -> str:
        return f"http://benchpublickey@127.0.0.1:{self.port}/{run_id}"

    def stats(self, run_id: str) -> RunStats:
        with self._lock:
            return self._runs.setdefault(run_id, RunStats()).copy()

    def record(self, run_id: str, wire_bytes: int, counted: Counted | None) -> str:
        """Count one request; returns the mode to answer it in."""
        now = time.monotonic()
        with self._lock:
            run = self._runs.setdefault(run_id, RunStats())
            if run.responses_429:
                run.requests_after_429 += 1
            run.requests += 1
            run.wire_bytes += wire_bytes
            run.first_request_at = run.first_request_at or now
            run.last_request_at = now
            if run.mode == RATE_LIMITED_MODE:
                run.responses_429 += 1
            if counted is None:
                run.undecodable += 1
                return run.mode
            for name, n in counted.items.items():
                run.items[name] = run.items.get(name, 0) + n
            run.decoded_bytes += counted.decoded_bytes
            if run.mode == RATE_LIMITED_MODE:
                run.rejected_events += counted.events
                return run.mode
            run.events += counted.events
            run.oversized_events += counted.oversized
            for case in counted.cases:
                run.case_events[case] = run.case_events.get(case, 0) + 1
            for case in counted.cases + counted.oversized_cases:
                run.case_sent[case] = run.case_sent.get(case, 0) + 1
                run.case_wire_bytes[case] = run.case_wire_bytes.get(case, 0) + wire_bytes
            return run.mode


def dead_port(host: str = "127.0.0.1") -> int:
    """A port that was just bound and closed: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
