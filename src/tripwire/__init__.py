"""tripwire: report errors, crashes and minidumps to Sentry-compatible servers.

The module-level functions follow ``sentry_sdk``'s error-reporting API, so
``import tripwire as sentry_sdk`` works for that subset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._api import (
    InitGuard,
    add_breadcrumb,
    capture_event,
    capture_exception,
    capture_message,
    capture_minidump,
    configure_scope,
    flush,
    get_client,
    get_current_scope,
    init,
    is_initialized,
    isolation_scope,
    last_event_id,
    new_scope,
    push_scope,
    remove_tag,
    set_context,
    set_extra,
    set_level,
    set_tag,
    set_tags,
    set_user,
)
from ._client import Client
from ._dsn import Dsn
from ._hub import Hub
from ._scope import Scope
from ._version import VERSION as __version__
from .errors import BadDsn, MinidumpError, TripwireError

if TYPE_CHECKING:
    from ._transport import FlushResult, SendResult, Transport


def __getattr__(name: str) -> object:
    # The transport (and with it urllib3) loads on first use, not at `import tripwire`.
    if name in ("FlushResult", "SendResult", "Transport"):
        from . import _transport

        return getattr(_transport, name)
    raise AttributeError(f"module 'tripwire' has no attribute {name!r}")


__all__ = [
    "BadDsn",
    "Client",
    "Dsn",
    "FlushResult",
    "Hub",
    "InitGuard",
    "MinidumpError",
    "Scope",
    "SendResult",
    "Transport",
    "TripwireError",
    "__version__",
    "add_breadcrumb",
    "capture_event",
    "capture_exception",
    "capture_message",
    "capture_minidump",
    "configure_scope",
    "flush",
    "get_client",
    "get_current_scope",
    "init",
    "is_initialized",
    "isolation_scope",
    "last_event_id",
    "new_scope",
    "push_scope",
    "remove_tag",
    "set_context",
    "set_extra",
    "set_level",
    "set_tag",
    "set_tags",
    "set_user",
]
