"""DSN parsing and everything derived from a DSN: endpoints and authentication.

A DSN has the form
``{scheme}://{public_key}[:{secret_key}]@{host}[:{port}]{/path-prefix}/{project_id}``.
Error messages name what is wrong and never contain the secret key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from ._version import VERSION
from .errors import BadDsn

SENTRY_PROTOCOL_VERSION = 7
CLIENT_NAME = f"tripwire/{VERSION}"
USER_AGENT = CLIENT_NAME

_SCHEMES = ("http", "https")
_PROJECT_ID = re.compile(r"^[0-9]+$")
_KEY = re.compile(r"^[A-Za-z0-9._~-]+$")


@dataclass(frozen=True)
class Dsn:
    """A parsed, validated DSN. Build one with :meth:`Dsn.parse`."""

    scheme: str
    public_key: str
    host: str
    port: int | None
    path_prefix: str
    project_id: str
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, value: object) -> Dsn:
        """Parse ``value`` or raise :class:`~tripwire.BadDsn` saying what is wrong."""
        if isinstance(value, Dsn):
            return value
        if not isinstance(value, str):
            raise BadDsn(f"DSN must be a string, got {type(value).__name__}")
        text = value.strip()
        if not text:
            raise BadDsn("DSN is empty")
        if "://" not in text:
            raise BadDsn("DSN has no scheme: expected 'https://<public_key>@<host>/<project_id>'")
        scheme = text.split("://", 1)[0].lower()
        if scheme not in _SCHEMES:
            # The scheme is echoed only when it looks like one, so a mangled DSN cannot leak.
            shown = repr(scheme) if re.fullmatch(r"[a-z][a-z0-9+.-]{0,15}", scheme) else "it"
            raise BadDsn(f"DSN scheme must be http or https, not {shown}")
        try:
            parts = urlsplit(text)
            port = parts.port
            host = parts.hostname
        except ValueError as exc:
            raise BadDsn(f"DSN has an invalid host or port ({_without_secret(str(exc))})") from None
        if parts.username is None or parts.username == "":
            raise BadDsn("DSN has no public key: expected '<scheme>://<public_key>@<host>/...'")
        public_key = unquote(parts.username)
        secret_key = unquote(parts.password) if parts.password else None
        if not _KEY.match(public_key):
            raise BadDsn("DSN public key contains characters that are not allowed")
        if secret_key is not None and not _KEY.match(secret_key):
            raise BadDsn("DSN secret key contains characters that are not allowed")
        if not host:
            raise BadDsn("DSN has no host")
        if parts.query or parts.fragment:
            raise BadDsn("DSN must not have a query string or fragment")
        path = parts.path.rstrip("/")
        prefix, _, project_id = path.rpartition("/")
        if not project_id:
            raise BadDsn("DSN has no project id: it must end with '/<project_id>'")
        if not _PROJECT_ID.match(project_id):
            raise BadDsn(f"DSN project id must be numeric, not {project_id[:32]!r}")
        if any(not segment for segment in prefix.split("/")[1:]):
            raise BadDsn("DSN path has an empty segment")
        return cls(
            scheme=scheme,
            public_key=public_key,
            secret_key=secret_key,
            host=host.lower(),
            port=port,
            path_prefix=prefix,
            project_id=project_id,
        )

    @property
    def netloc(self) -> str:
        """Host and port as they appear in a URL (IPv6 literals bracketed)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def base_uri(self) -> str:
        """Scheme, host, port and path prefix, without a trailing slash."""
        return f"{self.scheme}://{self.netloc}{self.path_prefix}"

    @property
    def api_root(self) -> str:
        """``{base_uri}/api/{project_id}``, the root of the ingest endpoints."""
        return f"{self.base_uri}/api/{self.project_id}"

    @property
    def store_url(self) -> str:
        return f"{self.api_root}/store/"

    @property
    def envelope_url(self) -> str:
        return f"{self.api_root}/envelope/"

    @property
    def minidump_url(self) -> str:
        """The minidump endpoint, authenticated in the query string (multipart uploaders
        cannot always set headers)."""
        return f"{self.api_root}/minidump/?sentry_key={quote(self.public_key, safe='')}"

    def auth_header(self, client: str = CLIENT_NAME) -> str:
        """The value of ``X-Sentry-Auth`` for requests made with this DSN."""
        parts = [
            f"sentry_version={SENTRY_PROTOCOL_VERSION}",
            f"sentry_client={client}",
            f"sentry_key={self.public_key}",
        ]
        if self.secret_key:
            parts.append(f"sentry_secret={self.secret_key}")
        return "Sentry " + ", ".join(parts)

    def to_string(self, *, with_secret: bool = False) -> str:
        """The DSN as text; the secret key is left out unless ``with_secret``."""
        user = self.public_key
        if with_secret and self.secret_key:
            user = f"{user}:{self.secret_key}"
        return f"{self.scheme}://{user}@{self.netloc}{self.path_prefix}/{self.project_id}"

    def __str__(self) -> str:
        return self.to_string()


def _without_secret(message: str) -> str:
    # urllib's messages quote the offending netloc, which may hold the secret.
    return "see the DSN's host part" if "@" in message or ":" in message else message
