"""Outgoing HTTP through ``http.client``: ``http`` breadcrumbs.

``HTTPConnection.putrequest`` and ``getresponse`` are wrapped, so requests made
with ``http.client``, ``urllib.request``, urllib3 and requests all leave a
breadcrumb: method, URL, status code and reason. The URL never carries
credentials; its query string is kept (as ``http.query``) only with
``send_default_pii``, its fragment never. Requests to the DSN's own host and
port (tripwire's own traffic) leave none.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, ClassVar
from urllib.parse import urlsplit

from .._hub import current_hub
from .._import_hooks import when_imported
from .._log import logger
from . import Integration
from ._active import client_for

if TYPE_CHECKING:
    import http.client

_PATCHED_MARK = "__tripwire_stdlib__"
# Set on the connection by putrequest, read by getresponse.
_REQUEST_ATTR = "_tripwire_request"


class StdlibIntegration(Integration):
    """Leave an ``http`` breadcrumb for each request made through ``http.client``."""

    identifier: ClassVar[str] = "stdlib"

    def setup_once(self) -> None:
        # http.client costs tens of milliseconds to import: patch it when the
        # program loads it, not at init().
        when_imported("http.client", _patch)


def _patch(module: ModuleType) -> None:
    conn: Any = module.HTTPConnection
    if getattr(conn.putrequest, _PATCHED_MARK, False):
        return
    conn.putrequest = _wrap_putrequest(conn.putrequest)
    conn.getresponse = _wrap_getresponse(conn.getresponse)


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _describe(conn: http.client.HTTPConnection, method: str, url: str) -> dict[str, object] | None:
    """The breadcrumb data of a request, or None when it goes to tripwire's own server."""
    client = client_for(StdlibIntegration.identifier)
    if client is None:
        return None
    https_class = sys.modules["http.client"].HTTPSConnection  # loaded: a request is under way
    scheme = "https" if isinstance(conn, https_class) else "http"
    if url.startswith(("http://", "https://")):  # an absolute URL: a request through a proxy
        parts = urlsplit(url)
        scheme = parts.scheme or scheme
        host = (parts.hostname or "").lower()
        port = parts.port or _default_port(scheme)
        path = parts.path or "/"
        query = parts.query
    else:
        host = str(conn.host).lower()
        port = conn.port or _default_port(scheme)
        path, _, query = url.partition("?")
        query = query.partition("#")[0]
        path = path.partition("#")[0] or "/"
    dsn = client.options.dsn
    if dsn is not None and dsn.host == host and (dsn.port or _default_port(dsn.scheme)) == port:
        return None
    shown_host = f"[{host}]" if ":" in host else host
    netloc = shown_host if port == _default_port(scheme) else f"{shown_host}:{port}"
    data: dict[str, object] = {"method": method.upper(), "url": f"{scheme}://{netloc}{path}"}
    if query and client.options.send_default_pii:
        data["http.query"] = query
    return data


def _wrap_putrequest(original: Callable[..., Any]) -> Callable[..., Any]:
    def putrequest(
        self: http.client.HTTPConnection, method: str, url: str, *a: Any, **k: Any
    ) -> Any:
        try:
            setattr(self, _REQUEST_ATTR, _describe(self, str(method), str(url)))
        except Exception:
            logger.exception("describing an outgoing HTTP request failed")
        return original(self, method, url, *a, **k)

    setattr(putrequest, _PATCHED_MARK, True)
    putrequest.__wrapped__ = original  # type: ignore[attr-defined]
    return putrequest


def _wrap_getresponse(original: Callable[..., Any]) -> Callable[..., Any]:
    def getresponse(self: http.client.HTTPConnection, *a: Any, **k: Any) -> Any:
        data = self.__dict__.pop(_REQUEST_ATTR, None)
        if data is None:
            return original(self, *a, **k)
        try:
            response = original(self, *a, **k)
        except BaseException as error:
            _record(data, None, type(error).__name__)
            raise
        _record(data, response.status, response.reason)
        return response

    setattr(getresponse, _PATCHED_MARK, True)
    getresponse.__wrapped__ = original  # type: ignore[attr-defined]
    return getresponse


def _record(data: dict[str, object], status: int | None, reason: str) -> None:
    try:
        if status is None:
            level = "error"
            data["reason"] = reason
        else:
            level = "error" if status >= 500 else "warning" if status >= 400 else "info"
            data["status_code"] = status
            data["reason"] = reason
        current_hub().add_breadcrumb(
            {"type": "http", "category": "httplib", "level": level, "data": data}
        )
    except Exception:
        logger.exception("recording an HTTP breadcrumb failed")
