"""Keeping secrets and personal data out of events, on the worker thread.

Two independent rule sets:

* without ``send_default_pii``: cookies, request bodies, IP addresses and
  credential headers are removed from ``request`` and ``user``;
* with ``scrub_data`` (the default): inside the free-form parts of an event
  (frame ``vars``, ``extra``, ``contexts``, ``tags``, ``user``, breadcrumb
  ``data``, request headers/env/data/cookies/query string, mechanism data) the
  value of every key that looks sensitive becomes ``[Filtered]``, at any depth;
  and in every string of the event, credentials in URLs, sensitive query
  parameters, bearer tokens, JWTs and well-known API token formats are
  replaced.

Key matching is by case-insensitive substring after ``-``, ``.`` and spaces
are read as ``_``. The generic fragments ``auth``, ``token``, ``session`` and
``pwd`` are matched only after removing a short list of benign words
(``author``, ``authenticat…``, ``tokeniz…``, ``max_tokens``…), so ``author`` and
``tokenizer`` keep their values while ``author_token`` and ``oauth`` do not.

Everything here is idempotent: scrubbing a scrubbed event changes nothing.
"""

from __future__ import annotations

import re
from typing import Callable, Dict

from ._options import Options
from ._serialize import Meta, NotedDict, NotedList, NotedStr, noted_str

FILTERED = "[Filtered]"

#: Fragments whose presence anywhere in a key marks it sensitive.
STRONG_FRAGMENTS: tuple[str, ...] = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "authorization",
    "cookie",
    "csrf",
    "xsrf",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "privatekey",
    "credential",
    "bearer",
    "jwt",
    "dsn",
    "sessionid",
    "session_id",
    "phpsessid",
    "connect_sid",
)
#: Fragments that also occur in harmless words; matched after removing those.
WEAK_FRAGMENTS: tuple[str, ...] = ("auth", "token", "session", "pwd")
#: Words removed from a key before the weak fragments are looked for.
BENIGN_WORDS = re.compile(
    r"author|authenticat|tokeniz|"
    r"(?:max|min|num|total|prompt|completion|input|output|cached|reasoning|n)_tokens?\b|"
    r"tokens?_(?:count|usage|limit)|^(?:old)?pwd$"
)
#: Keys holding IP addresses, sensitive only without send_default_pii.
PII_FRAGMENTS: tuple[str, ...] = (
    "x_forwarded_for",
    "x_real_ip",
    "ip_address",
    "remote_addr",
    "true_client_ip",
    "cf_connecting_ip",
)
_PII_HEADERS = frozenset({"forwarded", "x_forwarded_for", "x_real_ip", "true_client_ip"})
_PII_HEADERS |= frozenset({"cf_connecting_ip", "x_client_ip", "client_ip"})
_DROPPED_HEADERS = frozenset({"cookie", "set_cookie"})

_NORMALIZE = str.maketrans({"-": "_", ".": "_", " ": "_"})

# One pass over a string finds every value-shaped secret; the callback decides
# what replaces each match.
_SECRETS = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)"
    r"(?:(?P<user>[^\s:/?#@\[\]]*):(?P<pw>[^\s/?#@\[\]]+)|(?P<tok>[A-Za-z0-9_\-.~%]{16,}))@"
    r"|(?P<bearer>\b[Bb][Ee][Aa][Rr][Ee][Rr]\s+)[A-Za-z0-9\-._~+/]{8,}=*"
    r"|\beyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"
    r"|\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}"
    r"|sk_(?:live|test)_[A-Za-z0-9]{16,}|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|AKIA[0-9A-Z]{16}|glpat-[A-Za-z0-9_\-]{20,})"
    r"|(?P<qsep>[?&;])(?P<qkey>[^=&#\s?;/]+)=(?P<qval>[^&#\s;]*)"
)

#: Event attributes that never hold user data and are not walked.
_SKIPPED = frozenset(
    {"event_id", "timestamp", "start_timestamp", "received", "platform", "level", "sdk"}
    | {"modules", "debug_meta", "_meta", "type", "version"}
)
#: Keys whose values are free-form data bags: their keys are checked at every depth.
_BAG_KEYS = frozenset(
    {"vars", "data", "extra", "tags", "user", "headers", "env", "cookies", "query_string"}
)
#: Nesting scrubbed; the finalizer replaces anything deeper before sending.
MAX_DEPTH = 100
_FILTER_META: Meta = {"rem": [["!config", "s"]]}

_Node = Dict[str, object]


class Scrubber:
    """The scrubbing rules of one configuration (denylist, PII setting)."""

    def __init__(self, extra_keys: tuple[str, ...] = (), *, pii_allowed: bool = False) -> None:
        strong = list(STRONG_FRAGMENTS)
        strong.extend(k.lower().translate(_NORMALIZE) for k in extra_keys if k)
        if not pii_allowed:
            strong.extend(PII_FRAGMENTS)
        self._strong = tuple(strong)
        self._verdicts: dict[str, bool] = {}

    # --- keys -----------------------------------------------------------------------

    def is_sensitive(self, key: str) -> bool:
        """True when ``key`` looks like it names a secret."""
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._judge(key)
            if len(self._verdicts) > 4096:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def _judge(self, key: str) -> bool:
        norm = key.lower().translate(_NORMALIZE)
        if any(fragment in norm for fragment in self._strong):
            return True
        rest = BENIGN_WORDS.sub(" ", norm)
        return any(fragment in rest for fragment in WEAK_FRAGMENTS)

    # --- values ---------------------------------------------------------------------

    def text(self, value: str) -> str:
        """``value`` with value-shaped secrets replaced."""
        scrubbed = _SECRETS.sub(self._replace, value)
        if scrubbed == value:
            return value
        meta: Meta = dict(getattr(value, "meta", None) or {})
        meta.setdefault("len", len(value))
        meta["rem"] = [*list(meta.get("rem") or ()), ["!config", "s"]]  # type: ignore[call-overload]
        return noted_str(scrubbed, meta)

    def _replace(self, match: re.Match[str]) -> str:
        if match.group("scheme") is not None:
            if match.group("tok") is not None:
                return f"{match.group('scheme')}{FILTERED}@"
            return f"{match.group('scheme')}{FILTERED}:{FILTERED}@"
        if match.group("bearer") is not None:
            return f"{match.group('bearer')}{FILTERED}"
        if match.group("qsep") is not None:
            key = match.group("qkey")
            if match.group("qval") and match.group("qval") != FILTERED and self.is_sensitive(key):
                return f"{match.group('qsep')}{key}={FILTERED}"
            return match.group(0)
        return FILTERED

    # --- trees ----------------------------------------------------------------------

    def walk(self, node: object, in_bag: bool) -> object:
        """``node`` scrubbed: strings cleaned, sensitive keys filtered when ``in_bag``."""
        return self._walk(node, in_bag, 0, set())

    def _walk(self, node: object, in_bag: bool, depth: int, active: set[int]) -> object:
        # Copy-on-write: a container is copied only when something in it changes, so
        # data shared with the scope (breadcrumbs, extra values) is never altered.
        if isinstance(node, str):
            return self.text(node)
        if not isinstance(node, (dict, list)) or id(node) in active or depth > MAX_DEPTH:
            # Cycles and absurd nesting are cut by the finalizer; nothing to scrub here.
            return node
        active.add(id(node))
        try:
            if isinstance(node, dict):
                return self._dict(node, in_bag, depth, active)
            return self._list(node, in_bag, depth, active)
        finally:
            active.discard(id(node))

    def _dict(
        self, node: dict[object, object], in_bag: bool, depth: int, active: set[int]
    ) -> object:
        changed: dict[object, object] = {}
        for key, value in node.items():
            if in_bag and isinstance(key, str) and self.is_sensitive(key):
                if value is not None and not _is_filtered(value):
                    changed[key] = _filtered()
                continue
            new = self._walk(value, in_bag or key in _BAG_KEYS, depth + 1, active)
            if new is not value:
                changed[key] = new
        if not changed:
            return node
        copy = _copy(node)
        copy.update(changed)  # type: ignore[attr-defined]
        return copy

    def _list(self, node: list[object], in_bag: bool, depth: int, active: set[int]) -> object:
        changed: dict[int, object] = {}
        for index, item in enumerate(node):
            if in_bag and _is_pair(item):
                # [name, value] pairs: headers, tags and query strings in list form.
                name: str = item[0]  # type: ignore[index]
                value: object = item[1]  # type: ignore[index]
                if self.is_sensitive(name):
                    new = value if value is None or _is_filtered(value) else _filtered()
                else:
                    new = self._walk(value, in_bag, depth + 1, active)
                if new is not value:
                    changed[index] = [name, new]
            else:
                new = self._walk(item, in_bag, depth + 1, active)
                if new is not item:
                    changed[index] = new
        if not changed:
            return node
        copy = _copy(node)
        for index, new in changed.items():
            copy[index] = new  # type: ignore[index]
        return copy


def _copy(node: object) -> object:
    """A shallow copy that keeps a Noted container's type and note."""
    if isinstance(node, dict):
        copy: object = NotedDict(node) if isinstance(node, NotedDict) else dict(node)
    else:
        copy = NotedList(node) if isinstance(node, NotedList) else list(node)  # type: ignore[call-overload]
    meta = getattr(node, "meta", None)
    if meta is not None:
        copy.meta = dict(meta)  # type: ignore[attr-defined]
    return copy


def _is_pair(item: object) -> bool:
    return isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)


def _is_filtered(value: object) -> bool:
    return isinstance(value, str) and value == FILTERED


def _filtered() -> NotedStr:
    return noted_str(FILTERED, dict(_FILTER_META))


_scrubbers: dict[tuple[tuple[str, ...], bool], Scrubber] = {}


def scrubber_for(options: Options) -> Scrubber:
    """The (cached) :class:`Scrubber` for ``options``."""
    key = (options.scrub_keys, options.send_default_pii)
    found = _scrubbers.get(key)
    if found is None:
        if len(_scrubbers) > 64:
            _scrubbers.clear()
        found = _scrubbers[key] = Scrubber(options.scrub_keys, pii_allowed=options.send_default_pii)
    return found


def _norm(name: object) -> str:
    return name.lower().translate(_NORMALIZE) if isinstance(name, str) else ""


def _without_headers(headers: object, drop: Callable[[str], bool]) -> object:
    if isinstance(headers, dict):
        return {k: v for k, v in headers.items() if not drop(_norm(k))}
    if isinstance(headers, list):
        return [
            pair
            for pair in headers
            if not (isinstance(pair, (list, tuple)) and pair and drop(_norm(pair[0])))
        ]
    return headers


def _own(holder: _Node, key: str) -> _Node | None:
    """``holder[key]`` replaced by a shallow copy the event owns, or None if not a dict."""
    value = holder.get(key)
    if not isinstance(value, dict):
        return None
    copy = dict(value)
    holder[key] = copy
    return copy


def _remove_pii(event: _Node, scrubber: Scrubber) -> None:
    request = _own(event, "request")
    if request is not None:
        request.pop("cookies", None)
        request.pop("data", None)
        env = _own(request, "env")
        if env is not None:
            for key in [k for k in env if _norm(k) in ("remote_addr", "http_x_forwarded_for")]:
                del env[key]
        if "headers" in request:
            request["headers"] = _without_headers(
                request["headers"], lambda name: name in _DROPPED_HEADERS or name in _PII_HEADERS
            )
            _filter_credential_headers(request, scrubber)
    user = event.get("user")
    if isinstance(user, dict) and "ip_address" in user:
        event["user"] = {k: v for k, v in user.items() if k != "ip_address"}


def _filter_credential_headers(request: _Node, scrubber: Scrubber) -> None:
    headers = request.get("headers")
    if isinstance(headers, dict):
        for key in headers:
            if (
                isinstance(key, str)
                and scrubber.is_sensitive(key)
                and not _is_filtered(headers[key])
            ):
                headers[key] = _filtered()
    elif isinstance(headers, list):
        for index, pair in enumerate(headers):
            if (
                isinstance(pair, (list, tuple))
                and len(pair) == 2
                and isinstance(pair[0], str)
                and scrubber.is_sensitive(pair[0])
                and not _is_filtered(pair[1])
            ):
                headers[index] = [pair[0], _filtered()]


def _scrub_query_string(request: _Node, scrubber: Scrubber) -> None:
    query = request.get("query_string")
    if isinstance(query, str) and query and not query.startswith("?"):
        # A bare "a=1&token=x" has no separator before its first pair.
        scrubbed = scrubber.text("?" + query)
        if scrubbed != "?" + query:
            request["query_string"] = noted_str(
                scrubbed[1:], getattr(scrubbed, "meta", None) or dict(_FILTER_META)
            )


def scrub_event(event: _Node, options: Options) -> None:
    """Remove personal data and secrets from ``event`` in place, as ``options`` say."""
    scrubber = scrubber_for(options)
    if not options.send_default_pii:
        _remove_pii(event, scrubber)
    if not options.scrub_data:
        return
    request = _own(event, "request")
    if request is not None:
        _scrub_query_string(request, scrubber)
        for name in list(request):
            request[name] = scrubber.walk(request[name], name in _BAG_KEYS)
    contexts = _own(event, "contexts")
    if contexts is not None:
        # Context names are structural; their contents are data bags.
        for name in list(contexts):
            contexts[name] = scrubber.walk(contexts[name], True)
    for key in list(event):
        if key in _SKIPPED or key in ("request", "contexts"):
            continue
        event[key] = scrubber.walk(event[key], key in _BAG_KEYS)
