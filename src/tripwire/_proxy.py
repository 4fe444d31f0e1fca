"""Which proxy, if any, requests to the DSN's host go through.

Precedence, most specific first:

1. the ``https_proxy`` option (https DSNs) or the ``http_proxy`` option; an
   empty string means "no proxy" and stops the search. An explicit option is
   used even when ``NO_PROXY`` lists the host: the application asked for it.
2. the ``https_proxy``/``HTTPS_PROXY`` (https DSNs) or ``http_proxy``/
   ``HTTP_PROXY`` environment variables (lower case first, as the standard
   library reads them), unless ``no_proxy``/``NO_PROXY`` lists the host.
   Like the standard library, upper-case ``HTTP_PROXY`` is ignored inside a
   CGI request (``REQUEST_METHOD`` set), where a client can set it.
3. for https DSNs, the ``http_proxy`` option (sentry_sdk does the same).

``NO_PROXY`` follows the standard library's ``proxy_bypass_environment``:
comma-separated entries, ``*`` bypasses every host, a leading dot is ignored,
an entry matches the host itself and its subdomains, an entry with ``:port``
only matches that port. In addition, as curl and requests do, an IP range in
CIDR notation (``10.0.0.0/8``) matches the addresses inside it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping


def _env(environ: Mapping[str, str], name: str) -> str | None:
    lower = environ.get(name.lower())
    if lower is not None:
        return lower
    if name == "HTTP_PROXY" and "REQUEST_METHOD" in environ:
        return None
    return environ.get(name.upper())


def _strip_brackets(host: str) -> str:
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _split_entry(entry: str) -> tuple[str, int | None]:
    """``host[:port]`` (IPv6 in brackets) into its parts; port None when absent or invalid."""
    if entry.startswith("["):
        close = entry.find("]")
        if close > 0:
            host, rest = entry[1:close], entry[close + 1 :]
            if rest.startswith(":") and rest[1:].isdigit():
                return host, int(rest[1:])
            return host, None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit():
            return host, int(port)
    return entry, None


def bypasses_proxy(host: str, port: int | None, no_proxy: str) -> bool:
    """True when ``NO_PROXY``-style ``no_proxy`` exempts ``host:port`` from proxying."""
    host = _strip_brackets(host.strip()).lower().rstrip(".")
    if not host:
        return False
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            if address is not None:
                try:
                    if address in ipaddress.ip_network(_strip_brackets(entry), strict=False):
                        return True
                except ValueError:
                    pass
            continue
        name, entry_port = _split_entry(entry)
        if entry_port is not None and entry_port != port:
            continue
        name = name.lstrip(".").rstrip(".")
        if not name:
            continue
        if host == name or host.endswith("." + name):
            return True
        if address is not None:
            try:
                if address == ipaddress.ip_address(name):
                    return True
            except ValueError:
                pass
    return False


def choose_proxy(
    scheme: str,
    host: str,
    port: int | None,
    *,
    http_proxy: str | None,
    https_proxy: str | None,
    environ: Mapping[str, str],
) -> str | None:
    """The proxy URL for a request to ``scheme://host:port``, or None to connect directly."""
    if port is None:
        port = 443 if scheme == "https" else 80
    if scheme == "https":
        if https_proxy is not None:
            return https_proxy or None
        from_env = _env(environ, "HTTPS_PROXY")
        if from_env and not _bypassed(host, port, environ):
            return from_env
        if http_proxy is not None:
            return http_proxy or None
        return None
    if http_proxy is not None:
        return http_proxy or None
    from_env = _env(environ, "HTTP_PROXY")
    if from_env and not _bypassed(host, port, environ):
        return from_env
    return None


def _bypassed(host: str, port: int, environ: Mapping[str, str]) -> bool:
    no_proxy = _env(environ, "NO_PROXY")
    return bool(no_proxy) and bypasses_proxy(host, port, no_proxy or "")
