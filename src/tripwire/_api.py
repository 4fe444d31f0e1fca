"""The module-level API: thin, guarded entry points over the current hub.

Names and call signatures follow ``sentry_sdk``'s error-reporting API, so
``import tripwire as sentry_sdk`` works for that subset. After ``init()``,
nothing here raises into the host application: faults are logged on the
``tripwire`` logger. ``set_tag`` and ``add_breadcrumb`` are written flat,
without the guard decorator, because they are called in hot loops.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from time import time as _now
from typing import TYPE_CHECKING, Any, Callable, overload

from . import _hub, _task_scopes
from ._client import Client, ErrorArg
from ._hub import Hub, _ConfigureGuard, _get_hub, _ScopeGuard, active_hub, current_hub
from ._log import guard, logger, set_debug
from ._options import Options, build_options
from ._protocol import Breadcrumb, Event, Hint
from ._scope import Scope
from .errors import MinidumpError
from .integrations import setup_integrations

if TYPE_CHECKING:
    from ._minidump import DumpInput
    from ._transport import FlushResult

_inactive_client: Client | None = None


class InitGuard:
    """What ``init()`` returns: ``with tripwire.init(...):`` closes and flushes on exit."""

    __slots__ = ("client",)

    def __init__(self, client: Client) -> None:
        self.client = client

    def __enter__(self) -> InitGuard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"<tripwire.InitGuard {self.client!r}>"


def init(dsn: str | None = None, **options: Any) -> InitGuard:
    """Configure tripwire. Without a DSN (argument or ``SENTRY_DSN``) the SDK stays disabled.

    Raises ``tripwire.BadDsn``, ``TypeError`` or ``ValueError`` for bad configuration;
    nothing after this call raises into your application.
    """
    opts = build_options(dsn, **options)
    set_debug(opts.debug)
    main = Hub.main
    previous = main.client
    client = Client(opts)
    for hub in {id(main): main, id(current_hub()): current_hub()}.values():
        hub.bind_client(client)
        hub.scope.set_max_breadcrumbs(opts.max_breadcrumbs)
    if opts.enabled:
        # After the client exists: integrations then find it bound, and their exit
        # hooks are registered after the transport's, so they run before its drain.
        client.set_integrations(setup_integrations(opts))
        _task_scopes.install()
        logger.debug("tripwire initialised for %s with %s", client.dsn, client.integrations)
    if previous is not None and previous is not client:
        previous.close()
    return InitGuard(client)


# --- capturing ---


# The capture functions check for an active client before anything else, so a
# disabled SDK costs a context-variable lookup and nothing more.


def capture_event(
    event: Event, hint: Hint | None = None, scope: Scope | None = None, **scope_kwargs: Any
) -> str | None:
    """Send a prepared event dict; returns its id, or None when nothing was sent."""
    try:
        hub = active_hub()
        return None if hub is None else hub.capture_event(event, hint, scope, **scope_kwargs)
    except Exception:
        logger.exception("internal error in tripwire.capture_event")
        return None


def capture_exception(
    error: ErrorArg = None, scope: Scope | None = None, **scope_kwargs: Any
) -> str | None:
    """Send ``error``, or the exception being handled; returns the event id or None."""
    try:
        hub = active_hub()
        return None if hub is None else hub.capture_exception(error, scope, **scope_kwargs)
    except Exception:
        logger.exception("internal error in tripwire.capture_exception")
        return None


def capture_message(
    message: str, level: str | None = None, scope: Scope | None = None, **scope_kwargs: Any
) -> str | None:
    """Send a message at ``level`` (default ``info``); returns the event id or None."""
    try:
        hub = active_hub()
        return None if hub is None else hub.capture_message(message, level, scope, **scope_kwargs)
    except Exception:
        logger.exception("internal error in tripwire.capture_message")
        return None


def capture_minidump(
    dump: DumpInput,
    *,
    event: Event | None = None,
    fields: Mapping[str, str] | None = None,
    filename: str | None = None,
) -> str | None:
    """Upload a minidump (a path, bytes or a binary file) with the current scope's context.

    The dump goes to the DSN's ``/minidump/`` endpoint as a gzip-compressed multipart
    upload through the background transport (or, with ``minidump_as_envelope=True``, as an
    ``event.minidump`` attachment). ``event`` adds or overrides event attributes; each item
    of ``fields`` becomes a form field, shown by Sentry as extra data. Returns the event id,
    or None when nothing will be sent; a dump refused before sending (no ``MDMP``
    signature, too large, unreadable) is logged on the ``tripwire`` logger.
    """
    try:
        hub = active_hub()
        if hub is None:
            return None
        return hub.capture_minidump(dump, event=event, fields=fields, filename=filename)
    except MinidumpError as exc:
        logger.error("minidump not sent: %s", exc)
        return None
    except Exception:
        logger.exception("internal error in tripwire.capture_minidump")
        return None


def add_breadcrumb(
    crumb: Breadcrumb | None = None,
    hint: Hint | None = None,
    *,
    category: str | None = None,
    message: str | None = None,
    level: str | None = None,
    data: Mapping[str, object] | None = None,
    type: str | None = None,  # the protocol's field name, shadowing the builtin
    timestamp: float | str | None = None,
    **kwargs: Any,
) -> None:
    """Record a breadcrumb (``message``, ``category``, ``type``, ``level``, ``data``)."""
    # The usual fields are named parameters, not **kwargs: CPython then builds no
    # dict for the call, which is most of the cost of a breadcrumb.
    try:
        try:
            hub = _get_hub()
        except LookupError:
            hub = current_hub()
        client = hub.client
        if client is None or client.transport is None:
            return
        fields: dict[str, Any] = {"type": "default", "level": "info", "timestamp": _now()}
        if crumb is not None:
            fields.update(crumb)
        if category is not None:
            fields["category"] = category
        if message is not None:
            fields["message"] = message
        if level is not None:
            fields["level"] = level
        if data is not None:
            fields["data"] = data
        if type is not None:
            fields["type"] = type
        if timestamp is not None:
            fields["timestamp"] = timestamp
        if kwargs:
            fields.update(kwargs)
        hub._store_breadcrumb(client, fields, hint)
    except Exception:
        logger.exception("internal error in tripwire.add_breadcrumb")


# --- scope data ---


def set_tag(key: str, value: object) -> None:
    """Tag every event captured in the current scope."""
    try:
        _get_hub()._scope._tags[key] = value
    except LookupError:  # this thread's first SDK call (dict stores raise no LookupError)
        set_tags({key: value})
    except Exception:
        logger.exception("internal error in tripwire.set_tag")


@guard
def set_tags(tags: Mapping[str, object]) -> None:
    current_hub().scope.set_tags(tags)


@guard
def remove_tag(key: str) -> None:
    current_hub().scope.remove_tag(key)


@guard
def set_user(value: Mapping[str, object] | None) -> None:
    """Set the user (``id``, ``email``, ``username``, ...); None clears it."""
    current_hub().scope.set_user(value)


@guard
def set_context(key: str, value: Mapping[str, object] | None) -> None:
    current_hub().scope.set_context(key, value)


@guard
def set_extra(key: str, value: object) -> None:
    current_hub().scope.set_extra(key, value)


@guard
def set_level(value: str) -> None:
    current_hub().scope.set_level(value)


# --- scopes ---


@overload
def push_scope(callback: None = None) -> _ScopeGuard: ...


@overload
def push_scope(callback: Callable[[Scope], None]) -> None: ...


def push_scope(callback: Callable[[Scope], None] | None = None) -> _ScopeGuard | None:
    """A scope layer whose changes vanish on exit: ``with push_scope() as scope:``."""
    return current_hub().push_scope(callback)


@overload
def configure_scope(callback: None = None) -> _ConfigureGuard: ...


@overload
def configure_scope(callback: Callable[[Scope], None]) -> None: ...


def configure_scope(callback: Callable[[Scope], None] | None = None) -> _ConfigureGuard | None:
    """Change the current scope: ``with configure_scope() as scope:`` or a callback."""
    return current_hub().configure_scope(callback)


def new_scope() -> AbstractContextManager[Scope]:
    """Run a block with a copy of the current scope: ``with new_scope() as scope:``."""
    return _hub.new_scope()


def isolation_scope() -> AbstractContextManager[Scope]:
    """Run a block against a forked hub, isolated from everything outside it."""
    return _hub.isolation_scope()


def get_current_scope() -> Scope:
    return current_hub().scope


# --- client ---


def get_client() -> Client:
    """The active client, or an inactive one (``is_active()`` False) before ``init()``."""
    global _inactive_client
    client = current_hub().client
    if client is not None:
        return client
    if _inactive_client is None:
        # Options() and not the environment: before init() nothing is configured.
        _inactive_client = Client(Options())
    return _inactive_client


def is_initialized() -> bool:
    """True once ``init()`` has configured an active client."""
    client = current_hub().client
    return client is not None and client.is_active()


@guard
def last_event_id() -> str | None:
    """The id of the last event sent from the current hub."""
    return current_hub().last_event_id()


@guard
def flush(timeout: float | None = None, callback: object = None) -> FlushResult | None:
    """Wait up to ``timeout`` seconds for queued events to be sent.

    Without a timeout it waits as long as events keep leaving, and gives up once none
    has been sent or dropped for ``shutdown_timeout`` seconds (2 s by default).

    Returns a :class:`FlushResult` (sent, dropped by reason, pending), or None when
    the SDK is disabled. ``callback`` is accepted for sentry_sdk compatibility.
    """
    return current_hub().flush(timeout)
