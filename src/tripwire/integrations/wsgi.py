"""WSGI: ``WsgiMiddleware(app)`` reports what goes wrong inside a WSGI application.

Each request runs against its own hub (forked from the current one, with a
new trace id), so what one request sets never shows in another's events.
Events captured during the request carry the ``request`` interface, the
request path as ``transaction``, and ``wsgi`` in ``sdk.integrations``. An
exception raised by the application, or while the server iterates a streamed
response, is captured (mechanism ``wsgi``, ``handled: false``) and re-raised
unchanged.

The body is read only with ``send_default_pii`` and when ``CONTENT_LENGTH``
fits ``max_request_body_size``: it is read before the application runs and
handed to it again as a fresh ``wsgi.input``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Dict
from urllib.parse import quote

from .._hub import Hub
from .._log import logger
from .._options import Options
from .._typing import TypeAlias
from ._web import (
    active_client,
    body_data,
    body_fits,
    body_limit,
    capture_request_error,
    cookies_from,
    filter_headers,
    request_hub,
    request_processor,
)

__all__ = ["WsgiMiddleware"]

Environ: TypeAlias = Dict[str, Any]
WsgiApp: TypeAlias = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]

IDENTIFIER = "wsgi"
_SEEN_KEY = "tripwire.wsgi"


class WsgiMiddleware:
    """Wrap a WSGI application: ``app.wsgi_app = WsgiMiddleware(app.wsgi_app)``."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Any:
        client = active_client()
        # Nested middlewares report once: the outermost one owns the request.
        if client is None or environ.get(_SEEN_KEY):
            return self.app(environ, start_response)
        try:
            environ[_SEEN_KEY] = True
            hub = _request_hub(environ, client.options)
        except Exception:
            logger.exception("preparing the request's scope failed")
            return self.app(environ, start_response)
        with hub:
            try:
                response = self.app(environ, start_response)
            except BaseException as error:
                capture_request_error(hub, error, IDENTIFIER)
                raise
        return _StreamedResponse(response, hub)


class _StreamedResponse:
    """The app's response iterable, iterated and closed against the request's hub."""

    def __init__(self, response: Iterable[bytes], hub: Hub) -> None:
        self._response = response
        self._hub = hub
        self._iterator: Iterator[bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        with self._hub:
            try:
                if self._iterator is None:
                    self._iterator = iter(self._response)
                return next(self._iterator)
            except StopIteration:
                raise
            except BaseException as error:
                capture_request_error(self._hub, error, IDENTIFIER)
                raise

    def close(self) -> None:
        close = getattr(self._response, "close", None)
        if close is None:
            return
        with self._hub:
            try:
                close()
            except BaseException as error:
                capture_request_error(self._hub, error, IDENTIFIER)
                raise


def _request_hub(environ: Environ, options: Options) -> Hub:
    body = _read_body(environ, body_limit(options))

    def build() -> dict[str, object]:
        return _request(environ, options, body)

    def transaction() -> str:
        return _path(environ) or "/"

    return request_hub(request_processor(IDENTIFIER, build, transaction))


def _read_body(environ: Environ, limit: int) -> bytes | None:
    if limit == 0:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not body_fits(length, limit):
        return None
    stream = environ.get("wsgi.input")
    if stream is None:
        return None
    body = stream.read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return bytes(body)


def _path(environ: Environ) -> str:
    return quote(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")))


def _url(environ: Environ) -> str:
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    host = environ.get("HTTP_HOST")
    if not host:
        host = str(environ.get("SERVER_NAME", ""))
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != ("443" if scheme == "https" else "80"):
            host = f"{host}:{port}"
    return f"{scheme}://{host}{_path(environ)}"


def _headers(environ: Environ) -> Iterator[tuple[str, str]]:
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        if value:
            yield name.replace("_", "-").title(), str(value)


def _request(environ: Environ, options: Options, body: bytes | None) -> dict[str, object]:
    pii = options.send_default_pii
    request: dict[str, object] = {
        "url": _url(environ),
        "method": str(environ.get("REQUEST_METHOD", "GET")).upper(),
        "query_string": str(environ.get("QUERY_STRING", "")),
        "headers": filter_headers(_headers(environ), pii),
    }
    if pii:
        remote = environ.get("REMOTE_ADDR")
        if remote:
            request["env"] = {"REMOTE_ADDR": str(remote)}
        cookies = cookies_from(environ.get("HTTP_COOKIE"))
        if cookies:
            request["cookies"] = cookies
    if body:
        request["data"] = body_data(str(environ.get("CONTENT_TYPE", "")), body)
    return request
