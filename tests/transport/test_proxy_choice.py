"""Proxy choice: options, environment variables, and NO_PROXY matching."""

from __future__ import annotations

import pytest

from tripwire._proxy import bypasses_proxy, choose_proxy


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "expected"),
    [
        ("sentry.example.com", 443, "*", True),
        ("sentry.example.com", 443, "example.com", True),
        ("sentry.example.com", 443, ".example.com", True),
        ("example.com", 443, ".example.com", True),
        ("notexample.com", 443, "example.com", False),
        ("example.com.evil.net", 443, "example.com", False),
        ("SENTRY.Example.COM", 443, "example.com", True),
        ("sentry.example.com", 443, "other.org, example.com", True),
        ("sentry.example.com", 443, "other.org,,  ", False),
        ("sentry.example.com", 8443, "example.com:8443", True),
        ("sentry.example.com", 443, "example.com:8443", False),
        ("10.1.2.3", 80, "10.0.0.0/8", True),
        ("11.1.2.3", 80, "10.0.0.0/8", False),
        ("192.168.1.7", 80, "192.168.1.7", True),
        ("192.168.1.7", 80, "192.168.1.0/24,foo", True),
        ("::1", 80, "::1/128", True),
        ("[::1]", 80, "[::1]", True),
        ("2001:db8::5", 80, "2001:db8::/32", True),
        ("2001:db9::5", 80, "2001:db8::/32", False),
        ("example.com", 443, "10.0.0.0/8", False),
        ("example.com", 443, "", False),
        ("localhost", 9000, "localhost", True),
    ],
)
def test_no_proxy_table(host: str, port: int, no_proxy: str, expected: bool) -> None:
    """NO_PROXY matches like the standard library (*, leading dots, suffixes, ports) plus CIDR."""
    assert bypasses_proxy(host, port, no_proxy) is expected


def choose(scheme: str, environ: dict[str, str], **options: str | None) -> str | None:
    return choose_proxy(
        scheme,
        "sentry.example.com",
        None,
        http_proxy=options.get("http_proxy"),
        https_proxy=options.get("https_proxy"),
        environ=environ,
    )


def test_options_win_over_environment_and_no_proxy() -> None:
    """An explicit proxy option is used even when the environment says otherwise."""
    env = {"HTTPS_PROXY": "http://env:1", "NO_PROXY": "*"}
    assert choose("https", env, https_proxy="http://opt:2") == "http://opt:2"
    assert choose("http", env, http_proxy="http://opt:3") == "http://opt:3"


def test_empty_option_disables_proxy() -> None:
    """An empty-string proxy option means: connect directly, whatever the environment says."""
    env = {"HTTPS_PROXY": "http://env:1", "HTTP_PROXY": "http://env:2"}
    assert choose("https", env, https_proxy="") is None
    assert choose("http", env, http_proxy="") is None


def test_environment_by_scheme_and_no_proxy() -> None:
    """The scheme's environment variable is used unless NO_PROXY lists the host; lower case first."""
    env = {
        "https_proxy": "http://lower:1",
        "HTTPS_PROXY": "http://upper:1",
        "HTTP_PROXY": "http://h:2",
    }
    assert choose("https", env) == "http://lower:1"
    assert choose("http", env) == "http://h:2"
    assert choose("https", {**env, "NO_PROXY": ".example.com"}) is None
    assert choose("http", {**env, "no_proxy": "sentry.example.com"}) is None


def test_https_falls_back_to_http_proxy_option() -> None:
    """An https DSN without any https proxy uses the http_proxy option, as sentry_sdk does."""
    assert choose("https", {}, http_proxy="http://opt:3") == "http://opt:3"
    assert choose("https", {"HTTP_PROXY": "http://env:2"}) is None


def test_cgi_ignores_upper_case_http_proxy() -> None:
    """Inside a CGI request (REQUEST_METHOD set) the client-controllable HTTP_PROXY is ignored."""
    assert choose("http", {"HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"}) is None
