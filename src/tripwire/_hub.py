"""The hub: the one home of tripwire's global state.

A hub holds a client and a stack of scopes. ``Hub.current`` is bound with a
``ContextVar``: each thread gets its own hub, forked from ``Hub.main`` the
first time it touches the SDK, and each asyncio task gets one forked from its
parent's when it is created (see ``_task_scopes``). ``Hub.main`` is the hub
``init()`` configures; its scope holds what is seen everywhere (release,
server-wide tags set before threads start).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from time import time as _now
from typing import TYPE_CHECKING, Any, Callable, overload

from ._client import Client, ErrorArg, exc_info_from
from ._log import logger
from ._protocol import Breadcrumb, Event, Hint
from ._scope import Scope

if TYPE_CHECKING:
    from ._minidump import DumpInput
    from ._transport import FlushResult


class _HubMeta(type):
    @property
    def current(cls) -> Hub:
        """The hub of the running thread or asyncio task."""
        return current_hub()

    @property
    def main(cls) -> Hub:
        """The hub ``init()`` configures, shared by everything started after it."""
        return _MAIN


class Hub(metaclass=_HubMeta):
    """A client plus a stack of scopes. ``with Hub(Hub.current):`` runs code against a copy."""

    __slots__ = ("_client", "_last_event_id", "_scope", "_stack", "_tokens")
    _client: Client | None
    _scope: Scope

    def __init__(
        self, client_or_hub: Client | Hub | None = None, scope: Scope | None = None
    ) -> None:
        if isinstance(client_or_hub, Hub):
            # A fork of a hub that uses the main hub's client keeps following it
            # (None), so a later init() reaches hubs forked before it.
            client = None if client_or_hub is _MAIN else client_or_hub._client
            if scope is None:
                scope = client_or_hub._scope.copy()
        else:
            client = client_or_hub
        if scope is None:
            scope = Scope()
        self._stack: list[tuple[Client | None, Scope]] = [(client, scope)]
        self._client = client
        self._scope = scope
        self._last_event_id: str | None = None
        self._tokens: list[Token[Hub]] = []

    # --- the current hub ---

    def __enter__(self) -> Hub:
        self._tokens.append(_hub_var.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        _hub_var.reset(self._tokens.pop())

    def run(self, callback: Callable[[], Any]) -> Any:
        """Run ``callback`` with this hub as the current one."""
        with self:
            return callback()

    # --- client and scope ---

    @property
    def client(self) -> Client | None:
        """This hub's client; hubs forked before ``init()`` use the main hub's."""
        client = self._client
        if client is None and self is not _MAIN:
            client = _MAIN._client
        return client

    @property
    def scope(self) -> Scope:
        """The scope at the top of the stack."""
        return self._scope

    def bind_client(self, client: Client | None) -> None:
        """Use ``client`` for this hub's top layer."""
        self._stack[-1] = (client, self._scope)
        self._client = client

    def _push(self) -> int:
        scope = self._scope.copy()
        self._stack.append((self._client, scope))
        self._scope = scope
        return len(self._stack) - 1

    def _pop_to(self, depth: int) -> None:
        del self._stack[depth:]
        self._client, self._scope = self._stack[-1]

    @overload
    def push_scope(self, callback: None = None) -> _ScopeGuard: ...

    @overload
    def push_scope(self, callback: Callable[[Scope], None]) -> None: ...

    def push_scope(self, callback: Callable[[Scope], None] | None = None) -> _ScopeGuard | None:
        """A new scope layer whose changes vanish on exit, also when the block raises.

        Use as ``with hub.push_scope() as scope:`` or ``hub.push_scope(callback)``.
        """
        if callback is None:
            return _ScopeGuard(self)
        with _ScopeGuard(self) as scope:
            callback(scope)
        return None

    @overload
    def configure_scope(self, callback: None = None) -> _ConfigureGuard: ...

    @overload
    def configure_scope(self, callback: Callable[[Scope], None]) -> None: ...

    def configure_scope(
        self, callback: Callable[[Scope], None] | None = None
    ) -> _ConfigureGuard | None:
        """Change the current scope: ``with hub.configure_scope() as scope:`` or a callback."""
        if callback is None:
            return _ConfigureGuard(self._scope)
        callback(self._scope)
        return None

    # --- capturing ---

    def _scope_for(self, scope: Scope | None, scope_kwargs: Mapping[str, Any]) -> Scope:
        if scope is not None:
            return scope
        if scope_kwargs:
            temporary = self._scope.copy()
            temporary.update_from_kwargs(**scope_kwargs)
            return temporary
        return self._scope

    def capture_event(
        self,
        event: Event,
        hint: Hint | None = None,
        scope: Scope | None = None,
        **scope_kwargs: Any,
    ) -> str | None:
        """Send a prepared event; returns its id or None when nothing was sent."""
        client = self.client
        if client is None or client.transport is None:
            return None
        event_id = client.capture_event(event, hint, self._scope_for(scope, scope_kwargs))
        if event_id is not None:
            self._last_event_id = event_id
        return event_id

    def capture_exception(
        self, error: ErrorArg = None, scope: Scope | None = None, **scope_kwargs: Any
    ) -> str | None:
        """Send an exception (the one being handled when ``error`` is None)."""
        client = self.client
        if client is None or client.transport is None:
            return None
        exc_info = exc_info_from(error)
        if exc_info is None:
            return None
        return self.capture_event({}, {"exc_info": exc_info}, scope, **scope_kwargs)

    def capture_message(
        self,
        message: str,
        level: str | None = None,
        scope: Scope | None = None,
        **scope_kwargs: Any,
    ) -> str | None:
        """Send a message at ``level`` (default ``info``)."""
        client = self.client
        if client is None or client.transport is None:
            return None
        event: Event = {"logentry": {"formatted": str(message)}, "level": level or "info"}
        return self.capture_event(event, {"skip_frames": 2}, scope, **scope_kwargs)

    def add_breadcrumb(
        self, crumb: Breadcrumb | None = None, hint: Hint | None = None, **kwargs: Any
    ) -> None:
        """Record a breadcrumb on the current scope (a no-op without an active client)."""
        self._record_breadcrumb(kwargs if crumb is None else {**crumb, **kwargs}, hint)

    def _record_breadcrumb(self, fields: Mapping[str, Any], hint: Hint | None) -> None:
        # Kept flat: it runs for every breadcrumb, often in hot loops.
        client = self._client or _MAIN._client
        if client is None or client.transport is None:
            return
        self._store_breadcrumb(
            client, {"type": "default", "level": "info", "timestamp": _now(), **fields}, hint
        )

    def _store_breadcrumb(self, client: Client, crumb: Breadcrumb, hint: Hint | None) -> None:
        """Run ``before_breadcrumb`` on a complete crumb and keep what it returns."""
        hook = client.options.before_breadcrumb
        if hook is not None:
            try:
                result = hook(crumb, hint or {})
            except Exception:
                logger.exception("before_breadcrumb raised; breadcrumb kept unchanged")
                result = crumb
            if result is None:
                return
            crumb = result
        self._scope._breadcrumbs.append(crumb)

    def capture_minidump(
        self,
        dump: DumpInput,
        *,
        event: Event | None = None,
        fields: Mapping[str, str] | None = None,
        filename: str | None = None,
    ) -> str | None:
        """Upload a minidump with this hub's scope; raises MinidumpError for a bad dump."""
        client = self.client
        if client is None or client.transport is None:
            return None
        event_id = client.capture_minidump(
            dump, event=event, fields=fields, filename=filename, scope=self._scope
        )
        if event_id is not None:
            self._last_event_id = event_id
        return event_id

    def last_event_id(self) -> str | None:
        """The id of the last event this hub sent.

        When the server assigned its own id (Bugsink does for minidumps), that id,
        once the upload has been answered (after a ``flush()``).
        """
        event_id = self._last_event_id
        client = self.client
        if event_id is not None and client is not None and client.transport is not None:
            return client.transport.server_event_id(event_id) or event_id
        return event_id

    def flush(self, timeout: float | None = None) -> FlushResult | None:
        """Wait for queued events to be sent; returns what was sent, dropped and pending."""
        client = self.client
        return None if client is None else client.flush(timeout)

    def __repr__(self) -> str:
        return f"<tripwire.Hub client={self.client!r} scopes={len(self._stack)}>"


class _ScopeGuard:
    """``with hub.push_scope() as scope:`` — pops back on exit whatever happened inside."""

    __slots__ = ("_depth", "_hub")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._depth = 0

    def __enter__(self) -> Scope:
        self._depth = self._hub._push()
        return self._hub._scope

    def __exit__(self, *exc: object) -> None:
        if len(self._hub._stack) <= self._depth:
            logger.warning("scope stack already unwound; push_scope exits were out of order")
            return
        self._hub._pop_to(self._depth)


class _ConfigureGuard:
    __slots__ = ("_scope",)

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def __enter__(self) -> Scope:
        return self._scope

    def __exit__(self, *exc: object) -> None:
        return None


_hub_var: ContextVar[Hub] = ContextVar("tripwire_hub")
_MAIN = Hub()
# The importing thread's context uses the main hub itself; every other thread
# forks its own on first use.
_hub_var.set(_MAIN)


_get_hub = _hub_var.get


def current_hub() -> Hub:
    """The running thread's or task's hub, forked from the main hub on first use."""
    try:
        return _get_hub()
    except LookupError:
        hub = Hub(_MAIN)
        _hub_var.set(hub)
        return hub


def active_hub() -> Hub | None:
    """The current hub if it has an active client, else None: the cheap disabled path."""
    try:
        hub = _get_hub()
    except LookupError:
        hub = current_hub()
    client = hub._client or _MAIN._client
    if client is None or client.transport is None or client._closed:
        return None
    return hub


@contextmanager
def isolation_scope() -> Iterator[Scope]:
    """Run a block against a forked hub: nothing set inside leaks out, and vice versa."""
    with Hub(current_hub()) as hub:
        yield hub._scope


@contextmanager
def new_scope() -> Iterator[Scope]:
    """Run a block with a copy of the current scope; changes vanish on exit."""
    with _ScopeGuard(current_hub()) as scope:
        yield scope


def fork_for_task() -> Token[Hub]:
    """Give the code about to start (a task) a hub forked from the current one."""
    return _hub_var.set(Hub(current_hub()))


def restore(token: Token[Hub]) -> None:
    _hub_var.reset(token)
