"""DSN parsing, validation and everything derived from a DSN."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tripwire import BadDsn, Dsn, __version__

GOOD = [
    # (dsn, base_uri, project_id, public, secret)
    ("https://pub@o1.ingest.example.com/42", "https://o1.ingest.example.com", "42", "pub", None),
    ("http://pub:sec@127.0.0.1:9000/7", "http://127.0.0.1:9000", "7", "pub", "sec"),
    ("https://pub@[::1]:8443/3", "https://[::1]:8443", "3", "pub", None),
    ("https://pub@[::1]/3", "https://[::1]", "3", "pub", None),
    ("https://pub@example.com/sentry/sub/5", "https://example.com/sentry/sub", "5", "pub", None),
    ("https://pub@example.com/5/", "https://example.com", "5", "pub", None),
    ("HTTPS://pub@Example.COM/5", "https://example.com", "5", "pub", None),
    ("  https://pub@example.com/5  ", "https://example.com", "5", "pub", None),
]


@pytest.mark.parametrize(("text", "base", "project", "public", "secret"), GOOD)
def test_good_dsns_parse(
    text: str, base: str, project: str, public: str, secret: str | None
) -> None:
    """Well-formed DSNs, including IPv6 hosts, path prefixes and a trailing slash, parse."""
    dsn = Dsn.parse(text)
    assert dsn.base_uri == base
    assert dsn.project_id == project
    assert dsn.public_key == public
    assert dsn.secret_key == secret


def test_endpoints_are_derived_from_the_dsn() -> None:
    """store, envelope and minidump URLs sit under /api/<project>/ after the path prefix."""
    dsn = Dsn.parse("https://pub@example.com/prefix/9")
    assert dsn.store_url == "https://example.com/prefix/api/9/store/"
    assert dsn.envelope_url == "https://example.com/prefix/api/9/envelope/"
    assert dsn.minidump_url == "https://example.com/prefix/api/9/minidump/?sentry_key=pub"


def test_auth_header_without_secret() -> None:
    """The auth header carries version 7, the client and the key, and no secret when none."""
    header = Dsn.parse("https://pub@example.com/9").auth_header()
    assert header == (
        f"Sentry sentry_version=7, sentry_client=tripwire/{__version__}, sentry_key=pub"
    )


def test_auth_header_with_secret() -> None:
    """A DSN with a secret key sends sentry_secret in the auth header."""
    header = Dsn.parse("https://pub:shh@example.com/9").auth_header()
    assert header.endswith("sentry_key=pub, sentry_secret=shh")


def test_str_hides_the_secret() -> None:
    """Printing a DSN never shows its secret key."""
    dsn = Dsn.parse("https://pub:topsecret@example.com/9")
    assert "topsecret" not in str(dsn)
    assert "topsecret" not in repr(dsn)
    assert dsn.to_string(with_secret=True) == "https://pub:topsecret@example.com/9"


BAD = [
    ("", "empty"),
    ("not a dsn", "no scheme"),
    ("ftp://pub@example.com/1", "http or https"),
    ("https://example.com/1", "no public key"),
    ("https://@example.com/1", "no public key"),
    ("https://pub@example.com", "no project id"),
    ("https://pub@example.com/", "no project id"),
    ("https://pub@example.com/abc", "numeric"),
    ("https://pub@/1", "no host"),
    ("https://pub@example.com:99999/1", "port"),
    ("https://pub@[::1/1", "host"),
    ("https://pub@example.com/1?x=1", "query"),
    ("https://pub@example.com//1", "empty segment"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_bad_dsns_raise_baddsn_saying_why(text: str, fragment: str) -> None:
    """Malformed DSNs raise BadDsn with a message naming the problem."""
    with pytest.raises(BadDsn, match=fragment):
        Dsn.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://pub:hunter2secret@example.com/notanumber",
        "https://pub:hunter2secret@example.com:99999/1",
        "https://pub:hunter2secret@/1",
        "https://pub:hunter2secret@[::1/1",
        "gopher://pub:hunter2secret@example.com/1",
        "https://pub:hunter2secret@example.com",
    ],
)
def test_bad_dsn_message_never_contains_the_secret(text: str) -> None:
    """Whatever is wrong with a DSN, the error message does not leak its secret key."""
    with pytest.raises(BadDsn) as info:
        Dsn.parse(text)
    assert "hunter2secret" not in str(info.value)


def test_non_string_dsn_is_rejected() -> None:
    """A DSN that is not a string raises BadDsn naming the type."""
    with pytest.raises(BadDsn, match="int"):
        Dsn.parse(42)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_fuzz_any_string_parses_or_raises_baddsn(text: str) -> None:
    """Any string either parses into a Dsn or raises BadDsn, never anything else."""
    try:
        dsn = Dsn.parse(text)
    except BadDsn:
        return
    assert dsn.project_id.isdigit()


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=30),
)
def test_fuzz_dsn_shaped_strings(key: str, host: str, path: str) -> None:
    """DSN-shaped strings with arbitrary parts parse or raise BadDsn; errors omit the secret."""
    text = f"https://{key}:s3cr3tvalue@{host}/{path}"
    try:
        Dsn.parse(text)
    except BadDsn as exc:
        assert "s3cr3tvalue" not in str(exc)
