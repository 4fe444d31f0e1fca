"""The HTTP transport against a real loopback server: wire format, responses, outcomes."""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections.abc import Iterator
from email.utils import formatdate
from time import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tripwire._dsn import USER_AGENT
from tripwire._envelope import Envelope
from tripwire._options import build_options
from tripwire._protocol import Attachment, PreparedBody, UploadJob
from tripwire._transport import HttpTransport, SendResult, Transport, make_transport

ENVELOPE_PATH = "/api/1/envelope/"
EVENT_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def transports() -> Iterator[list[Transport]]:
    made: list[Transport] = []
    yield made
    for transport in made:
        transport.close(1.0)


@pytest.fixture
def make(httpserver: HTTPServer, transports: list[Transport]) -> Any:
    def factory(**options: Any) -> HttpTransport:
        dsn = options.pop("dsn", f"http://public:secret@127.0.0.1:{httpserver.port}/1")
        transport = make_transport(build_options(dsn=dsn, environ={}, **options))
        assert isinstance(transport, HttpTransport)
        transports.append(transport)
        return transport

    return factory


def envelope_of(request: Request) -> Envelope:
    data = request.get_data()
    if request.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return Envelope.parse(data)


def error_event(event_id: str = EVENT_ID, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "level": "error",
        "exception": {"values": [{"type": "ValueError", "value": "boom"}]},
        **extra,
    }


def message_event(n: int) -> dict[str, Any]:
    return {"event_id": f"{n:032x}", "message": f"message {n}", "level": "info"}


def requests_to(httpserver: HTTPServer, path: str = ENVELOPE_PATH) -> list[Request]:
    return [request for request, _ in httpserver.log if request.path == path]


def test_envelope_request_headers_and_gzip_body(make: Any, httpserver: HTTPServer) -> None:
    """An event goes out as a gzip envelope with exactly the auth, agent, type and length headers."""
    httpserver.expect_request(ENVELOPE_PATH, method="POST").respond_with_json({"id": EVENT_ID})
    transport = make()
    attachment = Attachment("notes.txt", bytes=b"hello", content_type="text/plain")
    assert transport.capture_event(error_event(), [attachment])
    assert transport.flush(5.0).sent == 1

    (request,) = requests_to(httpserver)
    headers = request.headers
    assert headers["X-Sentry-Auth"] == (
        f"Sentry sentry_version=7, sentry_client={USER_AGENT}, "
        "sentry_key=public, sentry_secret=secret"
    )
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Content-Type"] == "application/x-sentry-envelope"
    assert headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(request.get_data())

    envelope = envelope_of(request)
    assert envelope.headers["event_id"] == EVENT_ID
    assert envelope.headers["dsn"] == f"http://public@127.0.0.1:{httpserver.port}/1"
    assert envelope.headers["sdk"]["name"] == "tripwire.python"  # type: ignore[index]
    assert str(envelope.headers["sent_at"]).endswith("Z")
    assert {k: v for k, v in envelope.event().items() if k != "modules"} == error_event()
    (item,) = list(envelope.items_of("attachment"))
    assert item.payload == b"hello"
    assert item.headers["filename"] == "notes.txt"
    assert item.headers["content_type"] == "text/plain"
    assert item.headers["attachment_type"] == "event.attachment"


def test_attachment_path_read_on_worker(make: Any, httpserver: HTTPServer, tmp_path: Any) -> None:
    """An attachment given by path is read when the envelope is built and sent as its bytes."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json({})
    path = tmp_path / "log.txt"
    path.write_bytes(b"line\n" * 3)
    transport = make()
    transport.capture_event(error_event(), [Attachment("log.txt", path=str(path))])
    transport.flush(5.0)
    (item,) = list(envelope_of(requests_to(httpserver)[0]).items_of("attachment"))
    assert item.payload == b"line\n" * 3


def test_compression_level_zero_sends_plain_body(make: Any, httpserver: HTTPServer) -> None:
    """compression_level=0 sends the envelope uncompressed, without Content-Encoding."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json({})
    transport = make(compression_level=0)
    transport.capture_event(error_event())
    transport.flush(5.0)
    (request,) = requests_to(httpserver)
    assert "Content-Encoding" not in request.headers
    sent = Envelope.parse(request.get_data()).event()
    assert {k: v for k, v in sent.items() if k != "modules"} == error_event()


def test_store_endpoint_sends_plain_json(make: Any, httpserver: HTTPServer) -> None:
    """use_store_endpoint posts the event JSON to /store/ and leaves attachments out."""
    httpserver.expect_request("/api/1/store/").respond_with_json({"id": EVENT_ID})
    transport = make(use_store_endpoint=True)
    transport.capture_event(error_event(), [Attachment("a.txt", bytes=b"x")])
    assert transport.flush(5.0).sent == 1
    (request,) = requests_to(httpserver, "/api/1/store/")
    assert request.headers["Content-Type"] == "application/json"
    stored = json.loads(gzip.decompress(request.get_data()))
    assert {k: v for k, v in stored.items() if k != "modules"} == error_event()


RATE_LIMIT_FORMS = [
    pytest.param({"Retry-After": "60"}, id="retry-after-seconds"),
    pytest.param({"Retry-After": "59.5"}, id="retry-after-decimal"),
    # The date is filled in when the test runs (collection may be long before).
    pytest.param({"Retry-After": "DATE+60"}, id="retry-after-date"),
    pytest.param({"X-Sentry-Rate-Limits": "60::organization"}, id="sentry-all"),
    pytest.param(
        {"X-Sentry-Rate-Limits": "60.25:error;default:key:quota:ns:extra"}, id="sentry-error"
    ),
    pytest.param({"X-Sentry-Rate-Limits": "nonsense"}, id="malformed-sentry"),
    pytest.param({"Retry-After": "whenever"}, id="malformed-retry-after"),
    pytest.param({}, id="no-headers"),
]


@pytest.mark.parametrize("headers", RATE_LIMIT_FORMS)
def test_429_stops_further_requests(
    make: Any, httpserver: HTTPServer, headers: dict[str, str]
) -> None:
    """After a 429 in any header form, no further event request reaches the server."""
    headers = {
        k: formatdate(time() + 60, usegmt=True) if v == "DATE+60" else v for k, v in headers.items()
    }
    httpserver.expect_request(ENVELOPE_PATH).respond_with_data("", status=429, headers=headers)
    outcomes: list[SendResult] = []
    transport = make(after_send=outcomes.append)
    assert transport.capture_event(error_event())
    transport.flush(5.0)
    assert not transport.capture_event(error_event("1" * 32))
    assert not transport.capture_event(message_event(2))
    result = transport.flush(5.0)
    assert len(requests_to(httpserver)) == 1
    assert result.dropped == {"ratelimit_backoff": 2}
    assert [o.outcome for o in outcomes] == ["rate_limited"] * 3
    assert outcomes[0].status == 429


def test_category_limit_on_success_drops_only_attachments(
    make: Any, httpserver: HTTPServer
) -> None:
    """X-Sentry-Rate-Limits for attachments on a 200 strips attachments but still sends events."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json(
        {}, headers={"X-Sentry-Rate-Limits": "60:attachment:key"}
    )
    transport = make()
    transport.capture_event(error_event())
    transport.flush(5.0)
    transport.capture_event(error_event("2" * 32), [Attachment("a.bin", bytes=b"abc")])
    assert transport.flush(5.0).sent == 1
    second = envelope_of(requests_to(httpserver)[1])
    assert [item.type for item in second.items] == ["event"]
    transport.close(5.0)
    report = envelope_of(requests_to(httpserver)[-1])
    (item,) = list(report.items_of("client_report"))
    assert item.json()["discarded_events"] == [  # type: ignore[index]
        {"reason": "ratelimit_backoff", "category": "attachment", "quantity": 3}
    ]


def test_limit_on_other_category_lets_events_through(make: Any, httpserver: HTTPServer) -> None:
    """A 429 limiting only transactions does not stop error events."""
    httpserver.expect_ordered_request(ENVELOPE_PATH).respond_with_data(
        "", status=429, headers={"X-Sentry-Rate-Limits": "60:transaction"}
    )
    httpserver.expect_ordered_request(ENVELOPE_PATH).respond_with_json({})
    transport = make()
    transport.capture_event(error_event())
    transport.flush(5.0)
    assert transport.capture_event(error_event("3" * 32))
    assert transport.flush(5.0).sent == 1
    assert len(requests_to(httpserver)) == 2


def test_server_error_is_dropped_and_logged(
    make: Any, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A 5xx drops the event, logs the body's detail and X-Sentry-Error, and pauses nothing."""
    httpserver.expect_ordered_request(ENVELOPE_PATH).respond_with_json(
        {"detail": "database on fire"}, status=503, headers={"X-Sentry-Error": "try later"}
    )
    httpserver.expect_ordered_request(ENVELOPE_PATH).respond_with_json({"id": EVENT_ID})
    outcomes: list[SendResult] = []
    transport = make(after_send=outcomes.append)
    with caplog.at_level(logging.WARNING, logger="tripwire"):
        transport.capture_event(error_event("4" * 32))
        result = transport.flush(5.0)
    assert result.dropped == {"send_error": 1}
    assert "database on fire" in caplog.text and "try later" in caplog.text
    assert outcomes == [SendResult("4" * 32, None, "send_error", 503)]
    transport.capture_event(error_event())
    assert transport.flush(5.0).sent == 1
    assert outcomes[-1] == SendResult(EVENT_ID, EVENT_ID, "sent", 200)


def test_413_sends_a_minimal_event_once(make: Any, httpserver: HTTPServer) -> None:
    """A 413 is answered by sending once a minimal event without locals or breadcrumbs."""
    httpserver.expect_ordered_request(ENVELOPE_PATH).respond_with_data("", status=413)
    httpserver.expect_ordered_request(ENVELOPE_PATH).respond_with_json({})
    frame = {"function": "f", "lineno": 3, "vars": {"big": "x" * 1000}, "context_line": "f()"}
    event = error_event(breadcrumbs={"values": [{"message": "crumb"}]})
    event["exception"]["values"][0]["stacktrace"] = {"frames": [frame]}
    transport = make()
    transport.capture_event(event, [Attachment("a.txt", bytes=b"x")])
    assert transport.flush(5.0).sent == 1
    minimal = envelope_of(requests_to(httpserver)[1])
    sent = minimal.event()
    assert sent is not None
    assert [item.type for item in minimal.items] == ["event"]
    assert "breadcrumbs" not in sent
    (value,) = sent["exception"]["values"]  # type: ignore[index]
    assert value["type"] == "ValueError" and value["value"] == "boom"
    (sent_frame,) = value["stacktrace"]["frames"]
    assert sent_frame["function"] == "f" and sent_frame["lineno"] == 3
    assert "vars" not in sent_frame and "context_line" not in sent_frame


def test_queue_overflow_is_counted_and_reported(make: Any, httpserver: HTTPServer) -> None:
    """Events refused by a full queue are counted in the flush result and the client report."""
    release = threading.Event()
    bodies: list[bytes] = []

    def slow(request: Request) -> Response:
        release.wait(5.0)
        bodies.append(request.get_data())
        return Response("{}", content_type="application/json")

    httpserver.expect_request(ENVELOPE_PATH).respond_with_handler(slow)
    outcomes: list[SendResult] = []
    transport = make(max_queue_size=2, after_send=outcomes.append)
    accepted = [transport.capture_event(message_event(i)) for i in range(10)]
    release.set()
    result = transport.close(5.0)
    refused = accepted.count(False)
    assert refused >= 7
    assert result.sent == 10 - refused
    assert result.dropped == {"queue_overflow": refused}
    assert [o.outcome for o in outcomes].count("queue_overflow") == refused
    report = Envelope.parse(gzip.decompress(bodies[-1]))
    (item,) = list(report.items_of("client_report"))
    assert item.json()["discarded_events"] == [  # type: ignore[index]
        {"reason": "queue_overflow", "category": "error", "quantity": refused}
    ]


def test_record_lost_reaches_client_report(make: Any, httpserver: HTTPServer) -> None:
    """Drops the client records (sample_rate, before_send) are sent as a client report at close."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json({})
    transport = make()
    transport.record_lost("sample_rate", "error")
    transport.record_lost("before_send", "default", 2)
    result = transport.close(5.0)
    assert result.dropped == {"sample_rate": 1, "before_send": 2}
    (request,) = requests_to(httpserver)
    envelope = envelope_of(request)
    assert "event_id" not in envelope.headers
    (item,) = list(envelope.items_of("client_report"))
    assert item.json()["discarded_events"] == [  # type: ignore[index]
        {"reason": "before_send", "category": "error", "quantity": 2},
        {"reason": "sample_rate", "category": "error", "quantity": 1},
    ]


def test_no_client_reports_when_disabled(make: Any, httpserver: HTTPServer) -> None:
    """send_client_reports=False sends no report at close."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json({})
    transport = make(send_client_reports=False)
    transport.record_lost("sample_rate", "error")
    transport.close(2.0)
    assert requests_to(httpserver) == []


def test_flush_and_close_results(make: Any, httpserver: HTTPServer) -> None:
    """flush() counts what was sent since the last flush; after close() captures are no-ops."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json({})
    transport = make()
    for i in range(20):
        transport.capture_event(message_event(i))
    first = transport.flush(5.0)
    assert first.sent == 20 and first.pending == 0 and bool(first)
    assert transport.flush(1.0).sent == 0
    transport.capture_event(message_event(99))
    closed = transport.close(5.0)
    assert closed.sent == 1 and bool(closed)
    assert transport.capture_event(message_event(100)) is False
    assert len(requests_to(httpserver)) == 21


def test_after_send_exception_is_logged(
    make: Any, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception raised by after_send is logged and sending continues."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json({})

    def broken(result: SendResult) -> None:
        raise RuntimeError("hook broke")

    transport = make(after_send=broken)
    with caplog.at_level(logging.ERROR, logger="tripwire"):
        transport.capture_event(message_event(1))
        transport.capture_event(message_event(2))
        assert transport.flush(5.0).sent == 2
    assert "after_send" in caplog.text


def test_minidump_upload(make: Any, httpserver: HTTPServer) -> None:
    """An upload job is built on the worker, posted to /minidump/ and its server id read."""
    httpserver.expect_request(
        "/api/1/minidump/", query_string="sentry_key=public"
    ).respond_with_data("ABCDEF01-2345-6789-ABCD-EF0123456789\n")
    cleaned: list[bool] = []
    built: list[str] = []

    def build() -> PreparedBody:
        built.append(threading.current_thread().name)
        return PreparedBody(
            data=gzip.compress(b"multipart-body"),
            length=len(gzip.compress(b"multipart-body")),
            content_type="multipart/form-data; boundary=xyz",
            content_encoding="gzip",
            cleanup=lambda: cleaned.append(True),
        )

    outcomes: list[SendResult] = []
    transport = make(after_send=outcomes.append)
    assert transport.submit_upload(UploadJob(event_id=EVENT_ID, build=build))
    assert transport.flush(5.0).sent == 1
    (request,) = requests_to(httpserver, "/api/1/minidump/")
    assert request.headers["Content-Type"] == "multipart/form-data; boundary=xyz"
    assert request.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(request.get_data()) == b"multipart-body"
    assert built == ["tripwire-worker"] and cleaned == [True]
    assert transport.last_server_event_id == "abcdef0123456789abcdef0123456789"
    assert outcomes == [SendResult(EVENT_ID, "abcdef0123456789abcdef0123456789", "sent", 200)]


def test_upload_blocked_by_rate_limit(make: Any, httpserver: HTTPServer) -> None:
    """An upload whose categories are rate limited is dropped without building or sending it."""
    httpserver.expect_request(ENVELOPE_PATH).respond_with_data(
        "", status=429, headers={"X-Sentry-Rate-Limits": "60:attachment"}
    )
    transport = make()
    transport.capture_event(error_event())
    transport.flush(5.0)
    built: list[int] = []

    def build() -> PreparedBody:
        built.append(1)
        return PreparedBody(b"", 0, "application/octet-stream")

    assert not transport.submit_upload(UploadJob(event_id=EVENT_ID, build=build))
    assert transport.flush(2.0).dropped == {"ratelimit_backoff": 1}
    assert built == []
    assert requests_to(httpserver, "/api/1/minidump/") == []


def test_client_report_sent_when_idle(
    make: Any, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pending drop counts go out in a client report of their own once the interval has passed."""
    from tripwire import _transport_base

    monkeypatch.setattr(_transport_base, "CLIENT_REPORT_INTERVAL", 0.05)
    httpserver.expect_request(ENVELOPE_PATH).respond_with_json({})
    transport = make()
    transport.record_lost("event_processor", "error", 3)
    deadline = time() + 5.0
    while not requests_to(httpserver) and time() < deadline:
        threading.Event().wait(0.01)
    (request,) = requests_to(httpserver)
    (item,) = list(envelope_of(request).items_of("client_report"))
    assert item.json()["discarded_events"] == [  # type: ignore[index]
        {"reason": "event_processor", "category": "error", "quantity": 3}
    ]
