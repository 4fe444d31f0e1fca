"""The HTTP transport and :func:`make_transport`, the client's way to get a transport.

Wire behaviour: envelopes go to the DSN's ``/envelope/`` endpoint (or plain
JSON to ``/store/`` with ``use_store_endpoint``), compressed, with
``X-Sentry-Auth``; minidump uploads go to ``/minidump/`` as the upload job
built them. Responses: 2xx sent (the answered id kept); 429 rate limited
(``Retry-After`` / ``X-Sentry-Rate-Limits``, also honoured on 2xx); 413 answered
by the base class with a minimal event; other statuses dropped and logged with
the server's ``detail`` and ``X-Sentry-Error``; network errors dropped, no retry.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Optional, cast

from ._dsn import USER_AGENT, Dsn
from ._envelope import CONTENT_TYPE, Envelope, Item
from ._http import Body, HttpClient, HttpResult, brotli_available, compress
from ._log import logger
from ._options import Options
from ._protocol import Event, PreparedBody, UploadJob
from ._transport_base import CallableTransport, Transport, event_category
from ._transport_results import Delivery, FlushResult, SendResult

__all__ = [
    "CallableTransport",
    "FlushResult",
    "HttpTransport",
    "SendResult",
    "Transport",
    "event_category",
    "make_transport",
]

_EVENT_ID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)


class HttpTransport(Transport):
    """Sends to the server named by ``options.dsn`` over one keep-alive connection pool."""

    def __init__(self, options: Options, *, environ: Mapping[str, str] | None = None) -> None:
        if options.dsn is None:
            raise ValueError("HttpTransport needs options.dsn")
        super().__init__(options)
        self._dsn: Dsn = options.dsn
        self._http = HttpClient(options, environ)
        self._auth = options.dsn.auth_header()
        self._failing = False
        if options.compression_algorithm == "br" and not brotli_available():
            logger.warning("compression_algorithm='br' needs the brotli package; using gzip")

    def _reports_enabled(self) -> bool:
        # Servers old enough to need /store/ have no /envelope/ for reports.
        return super()._reports_enabled() and not self.options.use_store_endpoint

    def send_envelope(self, envelope: Envelope) -> None:
        """Send ``envelope`` now, on this thread; raise ``RuntimeError`` if it was not accepted."""
        delivery = self._send(envelope, None)
        if delivery.outcome != "sent":
            raise RuntimeError(f"envelope not accepted: {delivery.outcome} ({delivery.status})")

    def _send(self, envelope: Envelope, deadline: float | None) -> Delivery:
        return self._post(self._dsn.envelope_url, envelope.serialize(), CONTENT_TYPE, deadline)

    def _send_event(
        self, event: Event, payload: bytes, attachments: list[Item], deadline: float | None
    ) -> Delivery:
        if not self.options.use_store_endpoint:
            return super()._send_event(event, payload, attachments, deadline)
        if attachments:
            logger.warning(
                "the /store/ endpoint cannot carry attachments; %d dropped", len(attachments)
            )
            for item in attachments:
                self._record_outcome("send_error", "attachment", len(item.payload))
        return self._post(self._dsn.store_url, payload, "application/json", deadline)

    def _send_upload(self, job: UploadJob, body: PreparedBody, deadline: float | None) -> Delivery:
        # The minidump module compressed the body itself; the key is in the URL.
        return self._post(
            self._dsn.minidump_url,
            body.data,
            body.content_type,
            deadline,
            length=body.length,
            encoding=body.content_encoding,
            encode=False,
        )

    def _post(
        self,
        url: str,
        body: Body,
        content_type: str,
        deadline: float | None,
        *,
        length: int | None = None,
        encoding: str | None = None,
        encode: bool = True,
    ) -> Delivery:
        if encode and isinstance(body, bytes):
            body, encoding = compress(
                body, self.options.compression_algorithm, self.options.compression_level
            )
        if length is None:
            length = len(body) if isinstance(body, bytes) else 0
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": content_type,
            "Content-Length": str(length),
        }
        if encode:
            headers["X-Sentry-Auth"] = self._auth
        if encoding:
            headers["Content-Encoding"] = encoding
        time_left = None if deadline is None else deadline - time.monotonic()
        return self._judge(self._http.post(url, body, headers, time_left=time_left))

    def _judge(self, result: HttpResult) -> Delivery:
        status = result.status
        if status is None:
            # Against a dead server, say it once, not once per event.
            log = logger.debug if self._failing else logger.warning
            log("sending to %s failed: %s", self._dsn.netloc, result.error)
            self._failing = True
            return Delivery("network_error")
        self._failing = False
        self._limiter.update(status, result.headers, time.monotonic(), time.time())
        if 200 <= status < 300:
            return Delivery("sent", status, _server_event_id(result.body))
        if status == 429:
            logger.warning(
                "rate limited by %s; pausing for %.1fs",
                self._dsn.netloc,
                self._limiter.remaining("error", time.monotonic()),
            )
            return Delivery("rate_limited", status)
        logger.warning(
            "%s refused an item with HTTP %d: %s%s",
            self._dsn.netloc,
            status,
            response_detail(result.body) or "(no detail)",
            f" [X-Sentry-Error: {result.headers['x-sentry-error']}]"
            if "x-sentry-error" in result.headers
            else "",
        )
        return Delivery("send_error", status)

    def _close_connections(self) -> None:
        self._http.close()

    def reset_after_fork(self) -> None:
        super().reset_after_fork()
        self._http.reset_after_fork()


def _server_event_id(body: bytes) -> Optional[str]:
    """The id the server answered with: JSON ``{"id": ...}`` or plain text (Relay)."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return None
    candidate: object = text
    if text.startswith("{"):
        try:
            candidate = json.loads(text).get("id")
        except Exception:  # not JSON, not an object, or nested too deep
            return None
    if isinstance(candidate, str) and _EVENT_ID.match(candidate.strip()):
        return candidate.strip().replace("-", "").lower()
    return None


def response_detail(body: bytes) -> str:
    """What a server's error answer says: its JSON ``detail``, else the text (300 chars)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except Exception:
        return text[:300]
    if isinstance(parsed, dict) and "detail" in parsed:
        return str(parsed["detail"])[:300]
    return text[:300]


def make_transport(options: Options) -> Transport | None:
    """The transport for ``options``: the configured one, a wrapped callable, HTTP, or None."""
    custom: object = options.transport
    if custom is None:
        return HttpTransport(options) if options.dsn is not None else None
    if isinstance(custom, Transport):
        custom.bind(options)
        return custom
    if callable(custom):
        return CallableTransport(custom, options)
    # A duck-typed object offering the Transport methods (Options accepted it).
    return cast(Transport, custom)
