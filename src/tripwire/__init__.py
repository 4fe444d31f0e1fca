"""tripwire: report errors, crashes and minidumps to Sentry-compatible servers.

The module-level functions follow ``sentry_sdk``'s error-reporting API, so
``import tripwire as sentry_sdk`` works for that subset.
"""

from __future__ import annotations

import importlib

from ._version import VERSION as __version__
from .errors import BadDsn, MinidumpError, TripwireError

# `import tripwire` loads only the version and the exception classes; the API
# and everything under it load on first attribute access (PEP 562), so a
# process that imports tripwire and never uses it pays almost nothing. After
# the first access each name is an ordinary module attribute.
TYPE_CHECKING = False
if TYPE_CHECKING:
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
    from ._transport import FlushResult, SendResult, Transport

_LAZY = {
    "InitGuard": "_api",
    "add_breadcrumb": "_api",
    "capture_event": "_api",
    "capture_exception": "_api",
    "capture_message": "_api",
    "capture_minidump": "_api",
    "configure_scope": "_api",
    "flush": "_api",
    "get_client": "_api",
    "get_current_scope": "_api",
    "init": "_api",
    "is_initialized": "_api",
    "isolation_scope": "_api",
    "last_event_id": "_api",
    "new_scope": "_api",
    "push_scope": "_api",
    "remove_tag": "_api",
    "set_context": "_api",
    "set_extra": "_api",
    "set_level": "_api",
    "set_tag": "_api",
    "set_tags": "_api",
    "set_user": "_api",
    "Client": "_client",
    "Dsn": "_dsn",
    "Hub": "_hub",
    "Scope": "_scope",
    "FlushResult": "_transport",
    "SendResult": "_transport",
    "Transport": "_transport",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tripwire' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
