"""ASGI: ``AsgiMiddleware(app)`` reports what goes wrong inside an ASGI application.

Each HTTP or WebSocket connection runs against its own hub (forked from the
current one, with a new trace id). Events captured while it runs carry the
``request`` interface, a ``transaction`` (the route's path template when the
framework records one in ``scope["route"]``, as Starlette does, else the
request path) and ``asgi`` in ``sdk.integrations``. An exception raised by the
application is captured (mechanism ``asgi``, ``handled: false``) and re-raised
unchanged. ``lifespan`` and other scope types pass straight through.

The body is recorded only with ``send_default_pii``, as the application
receives it, up to ``max_request_body_size``; nothing is read ahead of the
application, so streamed request and response bodies keep streaming.
"""

from __future__ import annotations

from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable
from urllib.parse import quote

from .._hub import Hub
from .._log import logger
from .._options import Options
from .._typing import TypeAlias
from ._web import (
    active_client,
    body_data,
    body_limit,
    capture_request_error,
    cookies_from,
    filter_headers,
    request_hub,
    request_processor,
)

__all__ = ["AsgiMiddleware"]

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
AsgiApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

IDENTIFIER = "asgi"
_SEEN_KEY = "tripwire.asgi"


class AsgiMiddleware:
    """Wrap an ASGI 3 application: ``app = AsgiMiddleware(app)``."""

    def __init__(self, app: AsgiApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = active_client()
        if client is None or scope.get("type") not in ("http", "websocket") or scope.get(_SEEN_KEY):
            await self.app(scope, receive, send)
            return
        try:
            scope[_SEEN_KEY] = True
            recorder = _BodyRecorder(receive, body_limit(client.options))
            hub = _request_hub(scope, client.options, recorder)
        except Exception:
            logger.exception("preparing the request's scope failed")
            await self.app(scope, receive, send)
            return
        with hub:
            try:
                await self.app(scope, recorder.receive if recorder.limit else receive, send)
            except BaseException as error:
                capture_request_error(hub, error, IDENTIFIER)
                raise


class _BodyRecorder:
    """Passes ``receive`` through, keeping a copy of the body up to ``limit`` bytes."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self.limit = limit  # 0: record nothing; -1: no limit
        self._chunks: list[bytes] = []
        self._size = 0
        self._complete = False
        self._too_big = False

    async def receive(self) -> Message:
        message = await self._receive()
        try:
            if message.get("type") == "http.request" and not self._too_big:
                chunk = message.get("body") or b""
                self._size += len(chunk)
                if self.limit >= 0 and self._size > self.limit:
                    self._too_big = True
                    self._chunks.clear()
                else:
                    self._chunks.append(bytes(chunk))
                if not message.get("more_body", False):
                    self._complete = True
        except Exception:
            logger.exception("recording the request body failed")
        return message

    def body(self) -> bytes | None:
        """The whole body, once the application has received all of it and it fits."""
        if self._complete and not self._too_big and self._size:
            return b"".join(self._chunks)
        return None


def _request_hub(scope: Scope, options: Options, recorder: _BodyRecorder) -> Hub:
    def build() -> dict[str, object]:
        return _request(scope, options, recorder)

    def transaction() -> str:
        route = scope.get("route")
        template = getattr(route, "path", None)
        if isinstance(template, str) and template:
            return template
        return _path(scope) or "/"

    return request_hub(request_processor(IDENTIFIER, build, transaction))


def _path(scope: Scope) -> str:
    return quote(str(scope.get("root_path", "")) + str(scope.get("path", "")))


def _decoded_headers(scope: Scope) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in scope.get("headers") or ()
    ]


def _url(scope: Scope, headers: list[tuple[str, str]]) -> str:
    scheme = str(scope.get("scheme") or ("ws" if scope.get("type") == "websocket" else "http"))
    host = next((value for name, value in headers if name.lower() == "host"), None)
    if not host:
        server = scope.get("server")
        host = ""
        if server:
            name, port = server[0], server[1]
            default = 443 if scheme in ("https", "wss") else 80
            host = str(name) if port in (None, default) else f"{name}:{port}"
    return f"{scheme}://{host}{_path(scope)}"


def _request(scope: Scope, options: Options, recorder: _BodyRecorder) -> dict[str, object]:
    pii = options.send_default_pii
    headers = _decoded_headers(scope)
    query = scope.get("query_string") or b""
    request: dict[str, object] = {
        "url": _url(scope, headers),
        "method": str(scope.get("method", "GET" if scope.get("type") == "websocket" else "")),
        "query_string": query.decode("latin-1") if isinstance(query, bytes) else str(query),
        "headers": filter_headers(headers, pii),
    }
    if pii:
        client = scope.get("client")
        if client:
            request["env"] = {"REMOTE_ADDR": str(client[0])}
        cookie = next((value for name, value in headers if name.lower() == "cookie"), None)
        cookies = cookies_from(cookie)
        if cookies:
            request["cookies"] = cookies
    body = recorder.body()
    if body:
        content_type = next(
            (value for name, value in headers if name.lower() == "content-type"), ""
        )
        request["data"] = body_data(content_type, body)
    return request
