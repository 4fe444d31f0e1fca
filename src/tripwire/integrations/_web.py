"""What the WSGI and ASGI middlewares share: the ``request`` interface and the per-request hub.

Rules for what a request event carries:

* ``url`` (scheme, host, path: never the query string), ``method``,
  ``query_string``, ``headers``;
* never: ``Authorization`` and ``Proxy-Authorization`` (credentials are not
  the kind of personal data ``send_default_pii`` opts into);
* only with ``send_default_pii``: cookies (header and ``cookies``), headers
  that carry the client's address (``X-Forwarded-For``...), ``env.REMOTE_ADDR``,
  and the body (``data``) up to ``max_request_body_size``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Callable, Optional
from urllib.parse import parse_qs

from .. import _environment
from .._client import Client
from .._hub import Hub, current_hub
from .._log import logger
from .._options import Options
from .._protocol import Event, Hint

# Bytes of body kept per max_request_body_size; None means no limit.
BODY_LIMITS: dict[str, Optional[int]] = {
    "never": 0,
    "small": 1_000,
    "medium": 10_000,
    "always": None,
}

_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})
_PII_HEADERS = frozenset(
    {
        "cookie",
        "set-cookie",
        "forwarded",
        "x-forwarded-for",
        "x-real-ip",
        "true-client-ip",
        "cf-connecting-ip",
        "x-client-ip",
        "client-ip",
    }
)


def body_limit(options: Options) -> int:
    """Bytes of request body to keep: 0 without ``send_default_pii``; -1 means no limit."""
    if not options.send_default_pii:
        return 0
    limit = BODY_LIMITS.get(options.max_request_body_size, 0)
    return -1 if limit is None else limit


def body_fits(length: int, limit: int) -> bool:
    return limit < 0 or 0 < length <= limit


def filter_headers(pairs: Iterable[tuple[str, str]], pii: bool) -> dict[str, str]:
    """Headers as a dict (repeated ones joined), without those the rules above exclude."""
    headers: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in _CREDENTIAL_HEADERS or (not pii and key in _PII_HEADERS):
            continue
        shown = lowered.setdefault(key, name)
        headers[shown] = f"{headers[shown]}, {value}" if shown in headers else value
    return headers


def cookies_from(header: str | None) -> dict[str, str] | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    return {name: morsel.value for name, morsel in jar.items()}


def body_data(content_type: str, body: bytes) -> object:
    """The body as the ``data`` of the request interface: parsed JSON or form, else text."""
    kind = content_type.split(";", 1)[0].strip().lower()
    text = body.decode("utf-8", "replace")
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if kind == "application/x-www-form-urlencoded":
        return {k: v if len(v) > 1 else v[0] for k, v in parse_qs(text).items()}
    if kind.startswith("multipart/"):
        return "[multipart body not captured]"
    return text


def active_client() -> Client | None:
    """The current client if it sends. The middlewares are opted into by wrapping an
    app, so they work without being listed in ``init(integrations=...)``."""
    client = current_hub().client
    return client if client is not None and client.is_active() else None


def request_processor(
    identifier: str,
    build: Callable[[], dict[str, object]],
    transaction: Callable[[], str | None],
) -> Callable[[Event, Hint], Event]:
    """An event processor adding the request (built on first use, then reused), the
    transaction, and ``identifier`` to ``sdk.integrations``."""
    cache: list[dict[str, object]] = []

    def add_request(event: Event, hint: Hint) -> Event:
        sdk = event.get("sdk")
        if isinstance(sdk, dict):
            # A new dict: the client shares one sdk payload between all events.
            names = sdk.get("integrations")
            names = list(names) if isinstance(names, list) else []
            if identifier not in names:
                event["sdk"] = {**sdk, "integrations": sorted([*names, identifier])}
        if "request" not in event:
            if not cache:
                cache.append(build())
            event["request"] = {
                k: dict(v) if isinstance(v, dict) else v for k, v in cache[0].items()
            }
        if "transaction" not in event:
            name = transaction()
            if name:
                event["transaction"] = name
        return event

    return add_request


def request_hub(processor: Callable[[Event, Hint], Event]) -> Hub:
    """A hub for one request: forked from the current one, with a new trace and the request."""
    hub = Hub(current_hub())
    scope = hub.scope
    scope.set_trace_context(_environment.new_trace_context())
    scope.add_event_processor(processor)
    return hub


def capture_request_error(hub: Hub, error: BaseException, mechanism: str) -> None:
    """Send an exception that escaped the application, unhandled, through the request's hub.

    BaseExceptions that are not Exceptions (a client gone away: GeneratorExit,
    task cancellation; KeyboardInterrupt, SystemExit) are the server's business.
    """
    if not isinstance(error, Exception):
        return
    try:
        hint = {
            "exc_info": (type(error), error, error.__traceback__),
            "mechanism": {"type": mechanism, "handled": False},
        }
        hub.capture_event({"level": "error"}, hint)
    except Exception:
        logger.exception("capturing an exception from a %s application failed", mechanism)
