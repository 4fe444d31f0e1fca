"""The client: the event pipeline from a captured exception or message to the transport.

build (exception values from live frames) → scope.apply_to_event → sample →
processors → before_send → transport. Sampling and ``ignore_errors`` are decided
before any expensive work; everything that does not need live frames (context
lines, scrubbing, encoding, compression) is left to the transport's worker,
unless ``before_send`` must see it first.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple, Type, Union

from . import _environment
from ._log import logger
from ._options import Options, build_options
from ._protocol import Event, Hint, PreparedBody, UploadJob
from ._scope import Scope
from ._typing import TypeAlias

if TYPE_CHECKING:
    from ._minidump import DumpInput, DumpSource
    from ._transport import FlushResult, Transport

# Modules needed only once something is captured or sent (_transport and the
# HTTP stack, _stacktrace, _serialize, _minidump, _multipart, _finalize, _scrub)
# are imported where they are first used: that keeps `import tripwire` cheap for
# the many processes that import it and never send anything.

ExcInfo: TypeAlias = Tuple[Type[BaseException], BaseException, Optional[TracebackType]]
ErrorArg: TypeAlias = Union[BaseException, ExcInfo, Tuple[None, None, None], None]

# Marks an exception object once it has been captured, so the same object is
# not sent twice (e.g. logged, then uncaught). An attribute on the exception
# itself keeps no reference to it: exceptions do not support weak references.
_CAPTURED_MARK = "__tripwire_captured__"


def exc_info_from(error: ErrorArg) -> ExcInfo | None:
    """Normalise what ``capture_exception`` accepts into an exc_info triple, or None."""
    if error is None:
        error = sys.exc_info()
    if isinstance(error, BaseException):
        return (type(error), error, error.__traceback__)
    if isinstance(error, tuple) and len(error) == 3 and isinstance(error[1], BaseException):
        return (type(error[1]), error[1], error[2])
    return None


def new_event_id() -> str:
    """A random (version 4) UUID as 32 lowercase hex digits, without importing uuid."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def _sampled(rate: float) -> bool:
    import random  # only clients with sample_rate < 1 need it

    return random.random() < rate


class Client:
    """Turns captures into events and hands them to the transport.

    Build one through ``tripwire.init()``; a client built from options without a
    DSN (and without a custom transport) is inactive and drops everything
    cheaply.
    """

    def __init__(
        self,
        options: Options | None = None,
        *,
        integrations: Sequence[str] = (),
        transport: Transport | None = None,
    ) -> None:
        self.options = options if options is not None else build_options()
        self.integrations = list(integrations)
        self.transport = transport
        if transport is None and self.options.enabled:
            from ._transport import make_transport

            self.transport = make_transport(self.options)
        self._release = self.options.release or _environment.detect_release(os.environ)
        self._static: Event | None = None
        self._closed = False
        # Dedupe is built in; disabled_integrations=["dedupe"] turns it off.
        self._dedupe = not self.options.integration_disabled("dedupe")

    # --- state ---

    def set_integrations(self, identifiers: Sequence[str]) -> None:
        """Record the active integrations (``init()`` sets them up after binding the client)."""
        self.integrations = list(identifiers)
        self._static = None  # sdk.integrations is part of the cached attributes

    def is_active(self) -> bool:
        """True while this client can send events."""
        return self.transport is not None and not self._closed

    @property
    def dsn(self) -> str | None:
        """The DSN, without its secret key."""
        return None if self.options.dsn is None else str(self.options.dsn)

    def _static_attributes(self) -> Event:
        # Computed on first capture, not at init, so init() stays cheap.
        if self._static is None:
            options = self.options
            static: Event = {
                "platform": "python",
                "environment": options.environment,
                "sdk": _environment.sdk_info(self.integrations),
            }
            if self._release:
                static["release"] = self._release
            if options.dist:
                static["dist"] = options.dist
            server_name = _environment.server_name(options)
            if server_name:
                static["server_name"] = server_name
            static["contexts"] = {
                "os": _environment.os_context(),
                "runtime": _environment.runtime_context(),
            }
            self._static = static
        return self._static

    # --- the pipeline ---

    def capture_event(
        self, event: Event, hint: Hint | None = None, scope: Scope | None = None
    ) -> str | None:
        """Run ``event`` through the pipeline; returns its id, or None when it was not sent."""
        transport = self.transport
        if transport is None or self._closed:
            return None
        options = self.options
        event = dict(event)  # the caller's dict is theirs: never fill it in or queue it
        hint = {} if hint is None else hint
        exc_info: ExcInfo | None = hint.get("exc_info")
        category = "error" if exc_info is not None or "exception" in event else "default"

        if exc_info is not None:
            error = exc_info[1]
            if self._is_ignored(error) or (self._dedupe and getattr(error, _CAPTURED_MARK, False)):
                return None
        if options.sample_rate < 1.0 and not _sampled(options.sample_rate):
            transport.record_lost("sample_rate", category)
            return None

        event_id: str = event.get("event_id") or new_event_id()
        event["event_id"] = event_id
        event.setdefault("timestamp", time.time())
        if exc_info is not None:
            self._add_exception(event, exc_info, hint)
        elif options.attach_stacktrace and "threads" not in event and "exception" not in event:
            from . import _stacktrace

            event["threads"] = {
                "values": [_stacktrace.current_thread(options, skip=hint.get("skip_frames", 0))]
            }

        prepared = self._prepare(event, hint, scope, category, transport)
        if prepared is None or not transport.capture_event(prepared, hint.get("attachments", ())):
            return None
        return event_id

    def _prepare(
        self, event: Event, hint: Hint, scope: Scope | None, category: str, transport: Transport
    ) -> Event | None:
        """Process-wide attributes, scope data, extra snapshot, then before_send."""
        for key, value in self._static_attributes().items():
            if key == "contexts":
                contexts = event.setdefault("contexts", {})
                for name, ctx in value.items():
                    contexts.setdefault(name, dict(ctx))
            else:
                event.setdefault(key, value)

        if scope is not None:
            applied = scope.apply_to_event(event, hint, _environment.new_trace_context)
            if applied is None:
                transport.record_lost("event_processor", category)
                return None
            event = applied

        extra = event.get("extra")
        if extra:
            # Extra values are the user's live objects: snapshot them now, while they
            # hold what they held at the capture.
            event["extra"] = self._snapshot_extra(extra)

        if self.options.before_send is not None:
            checked = self._run_before_send(event, hint)
            if checked is None:
                transport.record_lost("before_send", category)
                return None
            event = checked
        return event

    def capture_minidump(
        self,
        dump: DumpInput,
        *,
        event: Event | None = None,
        fields: Mapping[str, str] | None = None,
        filename: str | None = None,
        scope: Scope | None = None,
        on_done: Callable[[int | None], None] | None = None,
    ) -> str | None:
        """Upload a minidump with the scope's context; returns the event id or None.

        Raises :class:`~tripwire.MinidumpError` when the dump is refused before
        anything is sent (signature, size); the module-level function logs it.
        ``on_done(status)`` is called on the worker with the server's HTTP status (None:
        no answer); with it the dump always goes as a multipart upload, whose status
        is the dump's own.
        """
        transport = self.transport
        if transport is None or self._closed:
            return None

        from ._minidump import build_minidump_event, minidump_attachment, open_dump

        options = self.options
        source = open_dump(dump)
        queued = False
        try:
            if options.sample_rate < 1.0 and not _sampled(options.sample_rate):
                transport.record_lost("sample_rate", "error")
                return None
            hint: Hint = {}
            base = self._prepare({"timestamp": time.time()}, hint, scope, "error", transport)
            if base is None:
                return None
            base.pop("platform", None)  # the dump's code is native, not Python
            dump_event = build_minidump_event(base, event, fields)
            event_id: str = dump_event["event_id"]
            if options.minidump_as_envelope and on_done is None:
                attachments = [minidump_attachment(source, filename), *hint.get("attachments", ())]
                return event_id if transport.capture_event(dump_event, attachments) else None
            job = UploadJob(
                event_id=event_id,
                build=functools.partial(
                    self._build_upload, source, dump_event, dict(fields or {}), filename
                ),
                estimated_bytes=source.size,
                on_done=on_done,
            )
            queued = transport.submit_upload(job)
            return event_id if queued else None
        finally:
            if not queued:
                source.close()

    def _build_upload(
        self, source: DumpSource, event: Event, fields: dict[str, str], filename: str | None
    ) -> PreparedBody:
        # Runs on the worker: the body is written (compressed) to a temporary file.

        from ._finalize import finalize_event
        from ._multipart import build_multipart_upload

        options = self.options
        try:
            return build_multipart_upload(
                source,
                event,
                encode_event=functools.partial(finalize_event, options=options),
                fields=fields,
                filename=filename,
                bracket_fields=options.minidump_bracket_fields,
                compression_level=options.compression_level,
            )
        finally:
            source.close()

    def _add_exception(self, event: Event, exc_info: ExcInfo, hint: Hint) -> None:
        from . import _stacktrace
        from ._serialize import ReprBudget

        error = exc_info[1]
        mechanism = hint.get("mechanism") or {}
        if "exception" not in event:
            budget = ReprBudget(self.options.repr_time_budget)
            event["exception"] = {
                "values": _stacktrace.exception_values(
                    error,
                    self.options,
                    mechanism_type=mechanism.get("type", "generic"),
                    handled=mechanism.get("handled", True),
                    budget=budget,
                )
            }
        event.setdefault("level", "error")
        # An exception type that refuses attributes cannot be deduplicated; that is all.
        with contextlib.suppress(Exception):
            setattr(error, _CAPTURED_MARK, True)

    def _snapshot_extra(self, extra: dict[str, object]) -> dict[str, object]:
        from ._serialize import ReprBudget, snapshot

        options = self.options
        budget = ReprBudget(options.repr_time_budget)
        return {
            key: snapshot(
                value,
                max_length=options.max_value_length,
                budget=budget,
                custom_repr=options.custom_repr,
            )
            for key, value in extra.items()
        }

    def _is_ignored(self, error: BaseException) -> bool:
        ignore = self.options.ignore_errors
        if not ignore:
            return False
        cls = type(error)
        names = {f"{c.__module__}.{c.__qualname__}" for c in cls.__mro__} | {
            c.__name__ for c in cls.__mro__
        }
        for entry in ignore:
            if isinstance(entry, type):
                if isinstance(error, entry):
                    return True
            elif entry.endswith(".*"):
                prefix = entry[:-1]
                if any(name.startswith(prefix) for name in names):
                    return True
            elif entry in names:
                return True
        return False

    def _run_before_send(self, event: Event, hint: Hint) -> Event | None:
        # before_send sees the event as the server will: with context lines and scrubbed.
        from . import _stacktrace
        from ._scrub import scrub_event

        _stacktrace.fill_context_lines(event)
        scrub_event(event, self.options)
        hook: Any = self.options.before_send
        try:
            result = hook(event, hint)
        except Exception:
            logger.exception("before_send raised; the event is sent unchanged")
            return event
        if result is not None and not isinstance(result, dict):
            logger.warning(
                "before_send returned %s, not a dict or None; event sent unchanged",
                type(result).__name__,
            )
            return event
        return result

    # --- lifecycle ---

    def flush(self, timeout: float | None = None) -> FlushResult | None:
        """Wait until queued events are sent or ``timeout`` seconds pass.

        Without a timeout: as long as events keep leaving, until none has for
        ``shutdown_timeout`` seconds (see :meth:`Transport.flush`).
        """
        if self.transport is None:
            return None
        return self.transport.flush(timeout)

    def close(self, timeout: float | None = None) -> FlushResult | None:
        """Flush, then stop the worker; later captures are no-ops."""
        if self.transport is None or self._closed:
            return None
        self._closed = True
        return self.transport.close(self.options.shutdown_timeout if timeout is None else timeout)

    def __repr__(self) -> str:
        return f"<tripwire.Client dsn={self.dsn!r} active={self.is_active()}>"
