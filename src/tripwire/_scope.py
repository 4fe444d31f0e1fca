"""The scope: everything attached to the events captured while it is current.

A scope holds breadcrumbs, user, tags, contexts, extra, level, fingerprint,
transaction name, event and error processors and attachments. It never talks
to the client or the network: the hub hands it to the client, which calls
:meth:`Scope.apply_to_event`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, Callable, Optional

from ._log import logger
from ._protocol import LEVELS, Attachment, Breadcrumb, Event, Hint

EventProcessor = Callable[[Event, Hint], Optional[Event]]
ErrorProcessor = Callable[[Event, Any], Optional[Event]]

DEFAULT_MAX_BREADCRUMBS = 100

_global_event_processors: list[EventProcessor] = []


def add_global_event_processor(func: EventProcessor) -> None:
    """Run ``func(event, hint)`` for every event, before the scope's own processors.

    Integrations use this for data that belongs to every event (``sys.argv``...).
    """
    if func not in _global_event_processors:
        _global_event_processors.append(func)


class Scope:
    """Data attached to every event captured while this scope is current."""

    __slots__ = (
        "_attachments",
        "_breadcrumbs",
        "_contexts",
        "_error_processors",
        "_event_processors",
        "_extras",
        "_fingerprint",
        "_level",
        "_tags",
        "_trace",
        "_transaction",
        "_user",
    )

    def __init__(self, max_breadcrumbs: int = DEFAULT_MAX_BREADCRUMBS) -> None:
        self._breadcrumbs: deque[Breadcrumb] = deque(maxlen=max_breadcrumbs)
        self._reset()

    def _reset(self) -> None:
        self._level: str | None = None
        self._fingerprint: list[str] | None = None
        self._transaction: str | None = None
        self._user: dict[str, object] | None = None
        self._tags: dict[str, object] = {}
        self._contexts: dict[str, dict[str, object]] = {}
        self._extras: dict[str, object] = {}
        self._event_processors: list[EventProcessor] = []
        self._error_processors: list[ErrorProcessor] = []
        self._attachments: list[Attachment] = []
        self._trace: dict[str, str] | None = None
        self._breadcrumbs.clear()

    def copy(self) -> Scope:
        """A new scope holding the same data; changing one never changes the other."""
        new = Scope.__new__(Scope)
        new._breadcrumbs = deque(self._breadcrumbs, maxlen=self._breadcrumbs.maxlen)
        new._level = self._level
        new._fingerprint = self._fingerprint
        new._transaction = self._transaction
        new._user = self._user
        new._tags = dict(self._tags)
        new._contexts = dict(self._contexts)
        new._extras = dict(self._extras)
        new._event_processors = list(self._event_processors)
        new._error_processors = list(self._error_processors)
        new._attachments = list(self._attachments)
        new._trace = self._trace
        return new

    __copy__ = copy

    # --- tags, user, contexts, extra ---

    def set_tag(self, key: str, value: object) -> None:
        self._tags[key] = value

    def set_tags(self, tags: Mapping[str, object]) -> None:
        self._tags.update(tags)

    def remove_tag(self, key: str) -> None:
        self._tags.pop(key, None)

    @property
    def tags(self) -> dict[str, object]:
        """A copy of the tags set on this scope."""
        return dict(self._tags)

    def set_user(self, value: Mapping[str, object] | None) -> None:
        """Set the user (``id``, ``email``, ``username``, ``ip_address``, ...); None clears it."""
        self._user = None if value is None else dict(value)

    @property
    def user(self) -> dict[str, object] | None:
        return None if self._user is None else dict(self._user)

    @user.setter
    def user(self, value: Mapping[str, object] | None) -> None:
        self.set_user(value)

    def set_context(self, key: str, value: Mapping[str, object] | None) -> None:
        """Set a named context (a dict); None removes it."""
        if value is None:
            self._contexts.pop(key, None)
        else:
            self._contexts[key] = dict(value)

    def remove_context(self, key: str) -> None:
        self._contexts.pop(key, None)

    def set_extra(self, key: str, value: object) -> None:
        self._extras[key] = value

    def remove_extra(self, key: str) -> None:
        self._extras.pop(key, None)

    # --- level, fingerprint, transaction ---

    def set_level(self, value: str | None) -> None:
        if value is not None and value not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {value!r}")
        self._level = value

    @property
    def level(self) -> str | None:
        return self._level

    @level.setter
    def level(self, value: str | None) -> None:
        self.set_level(value)

    @property
    def fingerprint(self) -> list[str] | None:
        return None if self._fingerprint is None else list(self._fingerprint)

    @fingerprint.setter
    def fingerprint(self, value: list[str] | None) -> None:
        self._fingerprint = None if value is None else [str(part) for part in value]

    @property
    def transaction(self) -> str | None:
        return self._transaction

    @transaction.setter
    def transaction(self, value: str | None) -> None:
        self._transaction = value

    def set_transaction_name(self, name: str) -> None:
        self._transaction = name

    # --- processors ---

    def add_event_processor(self, func: EventProcessor) -> None:
        """``func(event, hint)`` returns the event (changed or not) or None to drop it."""
        self._event_processors.append(func)

    def add_error_processor(
        self, func: ErrorProcessor, cls: type[BaseException] | None = None
    ) -> None:
        """``func(event, exc_info)`` runs for error events only, or only for ``cls``."""
        if cls is not None:
            wrapped, only = func, cls

            def func(event: Event, exc_info: Any) -> Event | None:
                if isinstance(exc_info[1], only):
                    return wrapped(event, exc_info)
                return event

        self._error_processors.append(func)

    # --- breadcrumbs ---

    def add_breadcrumb(self, crumb: Breadcrumb) -> None:
        """Append an already-complete crumb; the oldest falls out when the buffer is full."""
        self._breadcrumbs.append(crumb)

    @property
    def breadcrumbs(self) -> list[Breadcrumb]:
        return list(self._breadcrumbs)

    @property
    def max_breadcrumbs(self) -> int:
        return self._breadcrumbs.maxlen or 0

    def set_max_breadcrumbs(self, size: int) -> None:
        if size != self._breadcrumbs.maxlen:
            self._breadcrumbs = deque(self._breadcrumbs, maxlen=size)

    def clear_breadcrumbs(self) -> None:
        self._breadcrumbs.clear()

    # --- attachments ---

    def add_attachment(
        self,
        bytes: bytes | None = None,  # sentry_sdk's keyword name, shadowing the builtin
        filename: str | None = None,
        path: str | None = None,
        content_type: str | None = None,
        add_to_transactions: bool = False,
        attachment_type: str = "event.attachment",
    ) -> None:
        """Send a file with every event captured in this scope."""
        if filename is None:
            if path is None:
                raise ValueError("an attachment from bytes needs a filename")
            filename = path.replace("\\", "/").rsplit("/", 1)[-1]
        self._attachments.append(
            Attachment(
                filename=filename,
                bytes=bytes,
                path=path,
                content_type=content_type,
                attachment_type=attachment_type,
            )
        )

    def clear_attachments(self) -> None:
        self._attachments.clear()

    @property
    def attachments(self) -> list[Attachment]:
        return list(self._attachments)

    # --- trace ---

    def set_trace_context(self, trace: Mapping[str, str] | None) -> None:
        """Group the events of one unit of work (a request, a job) under one trace id."""
        self._trace = None if trace is None else dict(trace)

    def clear(self) -> None:
        """Forget everything set on this scope."""
        self._reset()

    # --- the merge ---

    def update_from_kwargs(
        self,
        user: Mapping[str, object] | None = None,
        level: str | None = None,
        extras: Mapping[str, object] | None = None,
        contexts: Mapping[str, Mapping[str, object]] | None = None,
        tags: Mapping[str, object] | None = None,
        fingerprint: list[str] | None = None,
    ) -> None:
        """Apply the ``**scope_kwargs`` that the capture functions accept."""
        if user is not None:
            self.set_user(user)
        if level is not None:
            self.set_level(level)
        if extras is not None:
            self._extras.update(extras)
        if contexts is not None:
            for key, value in contexts.items():
                self.set_context(key, value)
        if tags is not None:
            self._tags.update(tags)
        if fingerprint is not None:
            self.fingerprint = fingerprint

    def apply_to_event(
        self,
        event: Event,
        hint: Hint,
        new_trace: Callable[[], dict[str, str]] | None = None,
    ) -> Event | None:
        """Merge this scope into ``event`` without overwriting what the event carries,
        then run the processors. Returns None when a processor drops the event."""
        if self._level is not None and "level" not in event:
            event["level"] = self._level
        if self._fingerprint is not None and "fingerprint" not in event:
            event["fingerprint"] = list(self._fingerprint)
        if self._transaction is not None and "transaction" not in event:
            event["transaction"] = self._transaction
        if self._user is not None:
            event["user"] = {**self._user, **event.get("user", {})}
        if self._tags:
            event["tags"] = {**self._tags, **event.get("tags", {})}
        if self._extras:
            event["extra"] = {**self._extras, **event.get("extra", {})}
        contexts = event.setdefault("contexts", {})
        for key, value in self._contexts.items():
            contexts.setdefault(key, dict(value))
        if "trace" not in contexts:
            if self._trace is None and new_trace is not None:
                self._trace = new_trace()
            if self._trace is not None:
                contexts["trace"] = dict(self._trace)
        if self._breadcrumbs:
            crumbs = event.setdefault("breadcrumbs", {}).setdefault("values", [])
            crumbs[:0] = self._breadcrumbs
        if self._attachments:
            hint.setdefault("attachments", []).extend(self._attachments)

        exc_info = hint.get("exc_info")
        if exc_info is not None:
            for error_processor in self._error_processors:
                result = _run_processor(error_processor, event, exc_info)
                if result is None:
                    return None
                event = result
        for processor in (*_global_event_processors, *self._event_processors):
            result = _run_processor(processor, event, hint)
            if result is None:
                return None
            event = result
        return event

    def __repr__(self) -> str:
        return (
            f"<Scope tags={len(self._tags)} contexts={len(self._contexts)} "
            f"breadcrumbs={len(self._breadcrumbs)}>"
        )


def _run_processor(processor: Callable[[Event, Any], Event | None], event: Event, arg: Any) -> Any:
    # A broken processor must not cost the user the event: log it and go on.
    try:
        return processor(event, arg)
    except Exception:
        logger.exception("event processor %r raised; event kept unchanged", processor)
        return event
