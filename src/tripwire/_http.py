"""The one place that speaks HTTP: a keep-alive urllib3 pool, TLS, proxies, compression.

:meth:`HttpClient.post` never raises: every outcome, a response or a failure
to get one, comes back as an :class:`HttpResult` for the transport to branch on.
Only this module imports urllib3, certifi and the compressors, and only when
the first request is made: together they cost more to import than the rest of
tripwire, and many processes that call ``init()`` never send anything.
"""

from __future__ import annotations

import codecs
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Union
from urllib.parse import unquote, urlsplit

from ._log import logger
from ._options import Options
from ._proxy import choose_proxy
from ._worker import fork_gate

if TYPE_CHECKING:
    import urllib3

MAX_RESPONSE_BODY = 64 * 1024
"""Bytes of a response body kept: enough for ids and error details."""

Body = Union[bytes, IO[bytes]]


@dataclass(frozen=True)
class HttpResult:
    """What one request came to: a status and headers, or an ``error`` description."""

    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def brotli_available() -> bool:
    """True when the optional ``brotli`` package can be imported."""
    try:
        import brotli  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def compress(data: bytes, algorithm: str, level: int) -> tuple[bytes, str | None]:
    """``data`` compressed, and its ``Content-Encoding`` (None: sent as is).

    Level 0 disables compression. ``br`` falls back to gzip when the brotli
    package is missing.
    """
    if level <= 0:
        return data, None
    if algorithm == "br":
        try:
            import brotli
        except ImportError:
            pass
        else:
            # brotli's quality runs 0-11; map our 1-9 onto it.
            quality = min(11, round(level * 11 / 9))
            return bytes(brotli.compress(data, quality=quality)), "br"
    import gzip  # lazily: see the module docstring

    # mtime=0 keeps the output reproducible (and tests byte-exact).
    return gzip.compress(data, compresslevel=level, mtime=0), "gzip"


class HttpClient:
    """POSTs to one server through one lazily created keep-alive pool.

    Used by the single worker thread; :meth:`reset_after_fork` drops the
    pool in a forked child so it never shares the parent's sockets.
    """

    def __init__(self, options: Options, environ: Mapping[str, str] | None = None) -> None:
        self._options = options
        self._environ = os.environ if environ is None else environ
        self._pool: urllib3.PoolManager | None = None
        self._lock = threading.Lock()

    def _make_pool(self, url: str) -> urllib3.PoolManager:
        import certifi  # lazily: see the module docstring
        import urllib3

        # Resolving a host name imports the idna codec on first use; do it here,
        # inside the fork gate, not during the request (see post()).
        codecs.lookup("idna")
        opts = self._options
        kwargs: dict[str, object] = {
            "num_pools": 2,
            "maxsize": 2,
            "cert_reqs": "CERT_REQUIRED",
            "ca_certs": opts.ca_certs or certifi.where(),
        }
        if opts.cert_file:
            kwargs["cert_file"] = opts.cert_file
        if opts.key_file:
            kwargs["key_file"] = opts.key_file
        parts = urlsplit(url)
        proxy = choose_proxy(
            parts.scheme,
            parts.hostname or "",
            parts.port,
            http_proxy=opts.http_proxy,
            https_proxy=opts.https_proxy,
            environ=self._environ,
        )
        if not proxy:
            return urllib3.PoolManager(**kwargs)  # type: ignore[arg-type]
        if "://" not in proxy:
            proxy = "http://" + proxy
        proxy_parts = urlsplit(proxy)
        if proxy_parts.scheme.startswith("socks"):
            try:
                from urllib3.contrib.socks import SOCKSProxyManager
            except ImportError:
                logger.error("a SOCKS proxy needs the PySocks package; connecting directly")
                return urllib3.PoolManager(**kwargs)  # type: ignore[arg-type]
            return SOCKSProxyManager(proxy, **kwargs)  # type: ignore[arg-type]
        headers: dict[str, str] = {}
        if proxy_parts.username:
            credentials = unquote(proxy_parts.username)
            if proxy_parts.password:
                credentials += ":" + unquote(proxy_parts.password)
            headers = urllib3.util.make_headers(proxy_basic_auth=credentials)
        return urllib3.ProxyManager(proxy, proxy_headers=headers, **kwargs)  # type: ignore[arg-type]

    def post(
        self,
        url: str,
        body: Body,
        headers: Mapping[str, str],
        *,
        time_left: float | None = None,
    ) -> HttpResult:
        """POST ``body`` to ``url``; ``time_left`` caps both timeouts (shutdown)."""
        try:
            import urllib3  # lazily: see the module docstring

            with self._lock:
                pool = self._pool
                if pool is None:
                    pool = self._pool = self._make_pool(url)
            connect, read = self._options.connect_timeout, self._options.read_timeout
            if time_left is not None:
                time_left = max(time_left, 0.001)
                connect, read = min(connect, time_left), min(read, time_left)
            timeout = urllib3.util.Timeout(connect=connect, read=read, total=time_left)
            # Everything this needs is imported by now, so a fork need not wait
            # for the server (the child drops this pool: reset_after_fork()).
            with fork_gate.outside():
                response = pool.request(
                    "POST",
                    url,
                    body=body,
                    headers=dict(headers),
                    timeout=timeout,
                    retries=False,
                    redirect=False,
                    preload_content=False,
                )
                try:
                    data = response.read(MAX_RESPONSE_BODY, decode_content=True)
                    if len(data) >= MAX_RESPONSE_BODY:
                        # A body this long is not a Sentry answer; do not keep reading it.
                        response.close()
                    else:
                        response.drain_conn()
                finally:
                    response.release_conn()
            headers_out = {k.lower(): response.headers[k] for k in response.headers}
            return HttpResult(response.status, headers_out, data)
        except Exception as exc:
            return HttpResult(None, {}, b"", _describe(exc))

    def reset_after_fork(self) -> None:
        """Forget the parent's pool (its sockets stay the parent's) and lock."""
        self._lock = threading.Lock()
        self._pool = None

    def close(self) -> None:
        """Close pooled connections."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            try:
                pool.clear()
            except Exception:
                logger.debug("closing the connection pool failed", exc_info=True)


def _describe(exc: BaseException) -> str:
    # urllib3 wraps the cause (refused, timed out, TLS) a level or two down.
    text = f"{type(exc).__name__}: {exc}"
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        text = f"{type(reason).__name__}: {reason}"
    return text
