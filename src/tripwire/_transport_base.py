"""The transport base: queueing, rate-limit gate, outcomes, flush/close, fork and exit.

The caller's thread only checks the rate limiter and appends to a bounded
queue (:meth:`Transport.capture_event`); the worker thread finalizes the event
into JSON, builds the envelope, compresses and sends it. Every item ends in
exactly one outcome, counted for client reports and :class:`FlushResult`, and
announced to the ``after_send`` hook as a :class:`SendResult`.

:class:`Transport` is the base: subclass it and override :meth:`send_envelope`
to route envelopes anywhere; queueing, rate limits, client reports, flush,
close, fork and exit handling come with it. :class:`CallableTransport` hands
each envelope to a function; ``_transport.HttpTransport`` speaks HTTP.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Callable, Literal, Optional, Union

from ._envelope import (
    Envelope,
    Item,
    attachment_item,
    client_report_item,
    envelope_headers,
    event_item,
)
from ._log import logger
from ._options import Options
from ._outcomes import Outcomes, client_report
from ._protocol import Attachment, Event, PreparedBody, UploadJob
from ._ratelimit import RateLimiter
from ._transport_results import (
    OUTCOME_OF_REASON,
    Delivery,
    FlushResult,
    Ledger,
    SendResult,
    reason_of,
)
from ._worker import Worker, on_exit, on_fork

EVENT_SIZE_ESTIMATE = 4096
"""Bytes an event is assumed to hold in memory while queued (it is not encoded
yet, so its real size is unknown on the caller's thread)."""

MAX_SERVER_IDS = 256
"""Server-assigned event ids remembered for ``last_event_id()``."""

CLIENT_REPORT_INTERVAL = 30.0
"""Seconds between client reports while items are being dropped."""

# Rate-limit categories of envelope item types that are not named alike.
_ITEM_CATEGORIES = {"event": "error", "client_report": "internal"}

_Job = Union[
    "tuple[Literal['event'], Event, tuple[Attachment, ...]]",
    "tuple[Literal['envelope'], Envelope, None]",
    "tuple[Literal['upload'], UploadJob, None]",
    "tuple[Literal['report'], None, None]",
    "tuple[Literal['notices'], None, None]",
]


def event_category(event: Event) -> str:
    """The rate-limit category of an event: ``error`` with an exception, else ``default``."""
    return "error" if "exception" in event else "default"


class Transport:
    """Queues events and sends them from a background thread.

    Subclasses override :meth:`send_envelope` (and :meth:`send_upload` to accept
    minidump uploads). A transport built without options adopts the client's
    when :func:`make_transport` hands it over.
    """

    def __init__(self, options: Options | None = None) -> None:
        self._bound = options is not None
        self.options = options if options is not None else Options()
        self._limiter = RateLimiter()
        self._outcomes = Outcomes()
        self.last_server_event_id: str | None = None
        """The id the server answered with for the last event or upload sent."""
        # Servers may assign their own id (Bugsink does for minidumps): ours → theirs.
        self._server_ids: OrderedDict[str, str] = OrderedDict()
        self._exit_deadline: float | None = None
        self._worker: Worker[_Job] = Worker(
            self._process,
            max_items=self.options.max_queue_size,
            max_bytes=self.options.max_queue_bytes,
            idle=self._on_idle,
        )
        self._reports = self._reports_enabled()
        self._ledger = Ledger()
        self._ledger.hook = self.options.after_send
        self._last_report = time.monotonic()
        on_fork(self)
        on_exit(self)

    def server_event_id(self, event_id: str) -> str | None:
        """The id the server assigned to ``event_id``, when it answered with another one."""
        return self._server_ids.get(event_id)

    def bind(self, options: Options) -> None:
        """Adopt the client's options when this transport was built without any."""
        if self._bound:
            return
        self._bound = True
        self.options = options
        self._reports = self._reports_enabled()
        self._ledger.hook = options.after_send
        self._worker.resize(options.max_queue_size, options.max_queue_bytes)

    # --- called on the application's threads ---

    def capture_event(self, event: Event, attachments: Sequence[Attachment] = ()) -> bool:
        """Queue ``event`` (and its attachments) for sending; False when it was dropped.

        Cheap: no encoding happens here, only a rate-limit check and an append.
        """
        worker = self._worker
        if worker.closed:
            return False
        category = event_category(event)
        if self._limiter.is_limited(category, time.monotonic()):
            self._lost_event("ratelimit_backoff", category, event, attachments)
            return False
        size = EVENT_SIZE_ESTIMATE
        for attachment in attachments:
            if attachment.bytes is not None:
                size += len(attachment.bytes)
        if not worker.submit(("event", event, tuple(attachments)), size):
            if not worker.closed:
                self._lost_event("queue_overflow", category, event, attachments)
            return False
        if self._exit_deadline is not None:
            self._flush_late_capture()
        return True

    def submit(self, envelope: Envelope) -> bool:
        """Queue a ready-made envelope, sent as it is; False when it was dropped."""
        if self._worker.closed:
            return False
        size = sum(len(item.payload) for item in envelope.items)
        if not self._worker.submit(("envelope", envelope, None), size):
            self._lost("queue_overflow", "default", event_id=envelope.event_id)
            return False
        return True

    def submit_upload(self, job: UploadJob) -> bool:
        """Queue a minidump upload; ``job.build()`` runs on the worker. False when dropped."""
        worker = self._worker
        if worker.closed:
            return False
        if self._limiter.any_limited(job.categories, time.monotonic()):
            self._lost_upload("ratelimit_backoff", job)
            return False
        if not worker.submit(("upload", job, None), job.estimated_bytes):
            if not worker.closed:
                self._lost_upload("queue_overflow", job)
            return False
        if self._exit_deadline is not None:
            self._flush_late_capture()
        return True

    def record_lost(self, reason: str, category: str, quantity: int = 1) -> None:
        """Count ``quantity`` items of ``category`` the client dropped for ``reason``."""
        self._ledger.count_dropped(reason, quantity if category != "attachment" else 0)
        self._record_outcome(reason, category, quantity)

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Wait until everything queued before the call has been sent or dropped.

        Without a ``timeout`` it waits as long as events keep leaving, and gives up
        once none has been sent or dropped for ``shutdown_timeout`` seconds: a busy,
        healthy server gets to finish a burst, a stuck one holds the caller no longer
        than that. During interpreter exit nothing outlasts ``shutdown_timeout``.
        """
        if self._ledger.has_notices:
            # Drops seen on callers' threads reach after_send before flush returns.
            self._worker.submit(("notices", None, None), force=True)
        if timeout is None and self._exit_deadline is None:
            pending = self._worker.flush(stall=self.options.shutdown_timeout)
        else:
            pending = self._worker.flush(self._clamp(timeout))
        return self._ledger.take(pending)

    def close(self, timeout: float | None = None) -> FlushResult:
        """Flush, send a last client report, stop the worker; later captures are no-ops."""
        timeout = self._clamp(timeout)
        if not self._worker.closed and self._outcomes and self._reports:
            self._worker.submit(("report", None, None), force=True)
        if self._ledger.has_notices:
            self._worker.submit(("notices", None, None), force=True)
        pending = self._worker.close(timeout)
        self._close_connections()
        return self._ledger.take(pending)

    # --- extension points ---

    def send_envelope(self, envelope: Envelope) -> None:
        """Deliver ``envelope``; raise when it could not be delivered. Runs on the worker."""
        raise NotImplementedError(f"{type(self).__name__} must override send_envelope()")

    def send_upload(self, job: UploadJob, body: PreparedBody) -> Optional[str]:
        """Deliver a minidump upload; return the server's id if known. Runs on the worker."""
        raise NotImplementedError(f"{type(self).__name__} cannot send minidump uploads")

    def _send(self, envelope: Envelope, deadline: float | None) -> Delivery:
        try:
            self.send_envelope(envelope)
        except Exception:
            logger.exception("%s failed to send an envelope", type(self).__name__)
            return Delivery("send_error")
        return Delivery("sent")

    def _send_upload(self, job: UploadJob, body: PreparedBody, deadline: float | None) -> Delivery:
        try:
            server_id = self.send_upload(job, body)
        except Exception:
            logger.exception("%s failed to send a minidump upload", type(self).__name__)
            return Delivery("send_error")
        return Delivery("sent", None, server_id)

    def _send_event(
        self, event: Event, payload: bytes, attachments: list[Item], deadline: float | None
    ) -> Delivery:
        envelope = Envelope(
            envelope_headers(event.get("event_id"), self.options.dsn, time.time()),
            [event_item(payload), *attachments],
        )
        report = self._due_report(time.monotonic(), force=False)
        if report is not None:
            envelope.items.append(client_report_item(client_report(report, time.time())))
        delivery = self._send(envelope, deadline)
        if report is not None and delivery.outcome == "network_error":
            self._outcomes.merge(report)
        return delivery

    def _close_connections(self) -> None:
        """Release network resources after close (HTTP pools)."""

    def _reports_enabled(self) -> bool:
        return self.options.send_client_reports

    # --- the worker ---

    def _process(self, job: _Job, deadline: float | None) -> None:
        if job[0] == "event":
            self._deliver_event(job[1], job[2], deadline)
        elif job[0] == "envelope":
            self._deliver_envelope(job[1], deadline)
        elif job[0] == "upload":
            self._deliver_upload(job[1], deadline)
        elif job[0] == "report":
            self._send_report(deadline, force=True)
        self._ledger.run_notices()

    def _deliver_event(
        self, event: Event, attachments: tuple[Attachment, ...], deadline: float | None
    ) -> None:
        category = event_category(event)
        now = time.monotonic()
        if self._limiter.is_limited(category, now):
            self._lost_event("ratelimit_backoff", category, event, attachments, notify_now=True)
            return
        try:
            from . import _finalize  # lazily: first needed on the worker, not at init()

            payload = _finalize.finalize_event(event, self.options)
        except Exception:
            logger.exception("could not encode event %s", event.get("event_id"))
            self._lost_event("internal_sdk_error", category, event, attachments, notify_now=True)
            return
        items = self._attachment_items(attachments, now)
        delivery = self._send_event(event, payload, items, deadline)
        if delivery.status == 413:
            logger.warning(
                "the server refused event %s as too large; sending a minimal version",
                event.get("event_id"),
            )
            for item in items:
                self._record_outcome("send_error", "attachment", len(item.payload))
            # Through finalize again, so the minimal version is scrubbed too.
            from . import _finalize  # lazily: first needed on the worker, not at init()

            payload = _finalize.finalize_event(_finalize.minimal_event(event), self.options)
            delivery = self._send_event(event, payload, [], deadline)
            items = []
        self._resolve(delivery, category, event.get("event_id"), items)

    def _deliver_envelope(self, envelope: Envelope, deadline: float | None) -> None:
        categories = {_ITEM_CATEGORIES.get(item.type, item.type) for item in envelope.items}
        if self._limiter.any_limited(categories, time.monotonic()):
            self._lost("ratelimit_backoff", "default", event_id=envelope.event_id)
            return
        delivery = self._send(envelope, deadline)
        self._resolve(delivery, "default", envelope.event_id, [])

    def _deliver_upload(self, job: UploadJob, deadline: float | None) -> None:
        status = None
        try:
            status = self._upload_status(job, deadline)
        finally:
            if job.on_done is not None:
                try:
                    job.on_done(status)
                except Exception:
                    logger.exception("upload callback for %s raised; ignored", job.event_id)

    def _upload_status(self, job: UploadJob, deadline: float | None) -> int | None:
        if self._limiter.any_limited(job.categories, time.monotonic()):
            self._lost_upload("ratelimit_backoff", job, notify_now=True)
            return None
        try:
            body = job.build()
        except Exception as exc:
            logger.error("minidump upload %s not sent: %s", job.event_id, exc)
            self._lost_upload("send_error", job, notify_now=True)
            return None
        try:
            delivery = self._send_upload(job, body, deadline)
        finally:
            try:
                body.cleanup()
            except Exception:
                logger.exception("cleaning up after minidump upload %s failed", job.event_id)
        if delivery.outcome == "sent":
            self._sent_one(job.event_id, delivery)
        else:
            reason = reason_of(delivery)
            self._ledger.count_dropped(reason, 1)
            if reason != "ratelimit_backoff":
                for category in job.categories:
                    self._record_outcome(reason, category, 1)
            self._ledger.notify(SendResult(job.event_id, None, delivery.outcome, delivery.status))
        return delivery.status

    def _attachment_items(self, attachments: tuple[Attachment, ...], now: float) -> list[Item]:
        items: list[Item] = []
        if not attachments:
            return items
        limited = self._limiter.is_limited("attachment", now)
        for attachment in attachments:
            data = attachment.bytes
            if data is None and not limited:
                try:
                    with open(attachment.path or "", "rb") as f:
                        data = f.read()
                except OSError as exc:
                    logger.warning("attachment %r not sent: %s", attachment.filename, exc)
                    self._record_outcome("send_error", "attachment", 1)
                    continue
            if limited:
                self._record_outcome(
                    "ratelimit_backoff", "attachment", _attachment_size(attachment)
                )
                continue
            assert data is not None
            items.append(
                attachment_item(
                    data, attachment.filename, attachment.content_type, attachment.attachment_type
                )
            )
        return items

    def _resolve(
        self, delivery: Delivery, category: str, event_id: str | None, items: list[Item]
    ) -> None:
        if delivery.outcome == "sent":
            self._sent_one(event_id, delivery)
            return
        reason = reason_of(delivery)
        self._ledger.count_dropped(reason, 1)
        # The server counts what it refused with 429 itself.
        if reason != "ratelimit_backoff":
            self._record_outcome(reason, category, 1)
            for item in items:
                self._record_outcome(reason, "attachment", len(item.payload))
        self._ledger.notify(SendResult(event_id, None, delivery.outcome, delivery.status))

    def _sent_one(self, event_id: str | None, delivery: Delivery) -> None:
        self._ledger.count_sent()
        if delivery.server_event_id:
            self.last_server_event_id = delivery.server_event_id
            if event_id and delivery.server_event_id != event_id:
                self._server_ids[event_id] = delivery.server_event_id
                if len(self._server_ids) > MAX_SERVER_IDS:
                    self._server_ids.popitem(last=False)
        self._ledger.notify(SendResult(event_id, delivery.server_event_id, "sent", delivery.status))

    def _on_idle(self, deadline: float | None) -> float | None:
        self._ledger.run_notices()
        if not self._outcomes or not self._reports:
            return None
        wait = self._last_report + CLIENT_REPORT_INTERVAL - time.monotonic()
        if wait > 0:
            return wait
        self._send_report(deadline, force=False)
        return CLIENT_REPORT_INTERVAL if self._outcomes else None

    def _due_report(self, now: float, *, force: bool) -> dict[tuple[str, str], int] | None:
        if not self._reports or not self._outcomes:
            return None
        if not force and now - self._last_report < CLIENT_REPORT_INTERVAL:
            return None
        if self._limiter.is_limited("internal", now):
            return None
        self._last_report = now
        return self._outcomes.take()

    def _send_report(self, deadline: float | None, *, force: bool) -> None:
        report = self._due_report(time.monotonic(), force=force)
        if report is None:
            return
        envelope = Envelope(
            envelope_headers(None, self.options.dsn, time.time()),
            [client_report_item(client_report(report, time.time()))],
        )
        if self._send(envelope, deadline).outcome == "network_error":
            self._outcomes.merge(report)

    # --- outcomes ---

    def _lost_event(
        self,
        reason: str,
        category: str,
        event: Event,
        attachments: Sequence[Attachment],
        *,
        notify_now: bool = False,
    ) -> None:
        self._ledger.count_dropped(reason, 1)
        self._record_outcome(reason, category, 1)
        for attachment in attachments:
            self._record_outcome(reason, "attachment", _attachment_size(attachment))
        self._lost_notice(reason, event.get("event_id"), notify_now)

    def _lost_upload(self, reason: str, job: UploadJob, *, notify_now: bool = False) -> None:
        self._ledger.count_dropped(reason, 1)
        for category in job.categories:
            self._record_outcome(reason, category, 1)
        self._lost_notice(reason, job.event_id, notify_now)

    def _lost(self, reason: str, category: str, *, event_id: str | None) -> None:
        self._ledger.count_dropped(reason, 1)
        self._record_outcome(reason, category, 1)
        self._lost_notice(reason, event_id, False)

    def _lost_notice(self, reason: str, event_id: str | None, now: bool) -> None:
        if self.options.after_send is None:
            return
        result = SendResult(event_id, None, OUTCOME_OF_REASON.get(reason, "send_error"))
        if now:
            self._ledger.notify(result)
        else:
            # Callers' threads never run the hook: the worker picks the notice up.
            self._ledger.leave(result)
            self._worker.wake()

    def _record_outcome(self, reason: str, category: str, quantity: int) -> None:
        if not self._reports:
            return
        was_empty = not self._outcomes
        self._outcomes.record(reason, category, quantity)
        if was_empty:
            self._worker.wake()

    # --- exit and fork ---

    def _clamp(self, timeout: float | None) -> float | None:
        # Once the interpreter is exiting, nothing may outlast shutdown_timeout.
        if self._exit_deadline is None:
            return timeout
        left = max(0.0, self._exit_deadline - time.monotonic())
        return left if timeout is None else min(timeout, left)

    def at_exit(self) -> None:
        """Send what is pending within ``shutdown_timeout`` (the interpreter is exiting)."""
        if self._worker.closed:
            return
        self._exit_deadline = time.monotonic() + self.options.shutdown_timeout
        self._worker.deadline = self._exit_deadline
        if self._outcomes and self._reports:
            self._worker.submit(("report", None, None), force=True)
        result = self.flush()
        if result.pending:
            logger.warning(
                "%d event(s) not sent within shutdown_timeout=%.1fs",
                result.pending,
                self.options.shutdown_timeout,
            )

    def _flush_late_capture(self) -> None:
        # The exit hook has already run (an atexit handler registered before ours
        # captured something): nobody will flush again, so wait here, within the
        # same shutdown deadline.
        self._worker.flush(self._clamp(None))

    def reset_after_fork(self) -> None:
        """In a forked child: none of the parent's counts, notices or connections."""
        self._outcomes.reset_after_fork()
        self._ledger.reset()
        self._last_report = time.monotonic()
        self._exit_deadline = None


def _attachment_size(attachment: Attachment) -> int:
    if attachment.bytes is not None:
        return len(attachment.bytes)
    return 1


class CallableTransport(Transport):
    """Hands each envelope to ``func`` on the worker thread."""

    def __init__(self, func: Callable[[Envelope], object], options: Options | None = None) -> None:
        self._func = func
        super().__init__(options)

    def send_envelope(self, envelope: Envelope) -> None:
        self._func(envelope)
