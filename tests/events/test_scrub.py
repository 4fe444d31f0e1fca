"""Privacy by default: what ``scrub_event`` removes and filters (``tripwire._scrub``)."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from tripwire._options import Options
from tripwire._scrub import FILTERED, Scrubber, scrub_event

OPTIONS = Options()


def _with(**changes: object) -> Options:
    return dataclasses.replace(OPTIONS, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key",
    [
        "db_password",
        "password",
        "PASSWORD",
        "passwd",
        "X-Auth-Token",
        "Authorization",
        "Proxy-Authorization",
        "cookie",
        "Set-Cookie",
        "api_key",
        "X-Api-Key",
        "apiKey",
        "client_secret",
        "token",
        "accessToken",
        "refresh_token",
        "author_token",
        "auth",
        "oauth",
        "session",
        "sessionid",
        "csrf",
        "csrftoken",
        "XSRF-TOKEN",
        "private_key",
        "credentials",
        "mysql_pwd",
        "sentry_dsn",
    ],
)
def test_sensitive_keys(key: str) -> None:
    """Keys that look like they name secrets are caught, whatever their case or separators."""
    assert Scrubber().is_sensitive(key)


@pytest.mark.parametrize(
    "key",
    [
        "author",
        "authority",
        "authors",
        "tokenizer",
        "tokenize",
        "max_tokens",
        "prompt_tokens",
        "token_count",
        "is_authenticated",
        "PWD",
        "username",
        "user_id",
        "name",
        "path",
    ],
)
def test_benign_lookalike_keys(key: str) -> None:
    """Common words containing 'auth', 'token' or 'pwd' keep their values."""
    assert not Scrubber().is_sensitive(key)


def test_ip_keys_are_sensitive_only_without_pii() -> None:
    """ip_address-like keys are filtered only when personal data is not allowed."""
    assert Scrubber(pii_allowed=False).is_sensitive("x_forwarded_for")
    assert not Scrubber(pii_allowed=True).is_sensitive("x_forwarded_for")


def test_scrub_keys_extend_the_denylist() -> None:
    """scrub_keys adds fragments to the denylist."""
    event = {"extra": {"customer_ssn": "123", "other": "ok"}}
    scrub_event(event, _with(scrub_keys=("SSN",)))
    assert event["extra"] == {"customer_ssn": FILTERED, "other": "ok"}


def _frame_event(vars_: dict[str, object]) -> dict[str, object]:
    return {"exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"vars": vars_}]}}]}}


def test_nested_keys_in_vars_are_filtered_at_every_depth() -> None:
    """db_password and {'auth': {'password': ...}} in frame vars are both filtered."""
    event = _frame_event(
        {
            "db_password": "x",
            "config": {"auth": {"password": "y"}, "nested": {"pw": {"password": "z"}}},
        }
    )
    scrub_event(event, OPTIONS)
    vars_ = event["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]  # type: ignore[index]
    assert vars_["db_password"] == FILTERED
    assert vars_["config"]["auth"] == FILTERED
    assert vars_["config"]["nested"]["pw"]["password"] == FILTERED


def test_extra_contexts_breadcrumbs_tags_user_are_scrubbed() -> None:
    """Sensitive keys are filtered in extra, contexts, breadcrumb data, tags and user."""
    event = {
        "extra": {"api_key": "k", "fine": 1},
        "contexts": {"session": {"token": "t", "id": 3}, "app": {"secret": "s"}},
        "breadcrumbs": {"values": [{"message": "m", "data": {"Authorization": "x", "n": 1}}]},
        "tags": {"csrf": "x", "env": "prod"},
        "user": {"id": "1", "data": {"password": "p"}},
    }
    scrub_event(event, OPTIONS)
    assert event["extra"] == {"api_key": FILTERED, "fine": 1}
    assert event["contexts"] == {
        "session": {"token": FILTERED, "id": 3},
        "app": {"secret": FILTERED},
    }
    assert event["breadcrumbs"]["values"][0]["data"] == {"Authorization": FILTERED, "n": 1}  # type: ignore[index]
    assert event["tags"] == {"csrf": FILTERED, "env": "prod"}
    assert event["user"] == {"id": "1", "data": {"password": FILTERED}}


def test_structural_keys_are_not_filtered() -> None:
    """Event attributes themselves are not key-filtered, only data inside bags."""
    event = {
        "transaction": "/login/token",
        "exception": {"values": [{"type": "TokenError", "value": "v"}]},
    }
    scrub_event(event, OPTIONS)
    assert event["exception"]["values"][0]["type"] == "TokenError"  # type: ignore[index]
    assert event["transaction"] == "/login/token"


def test_url_credentials_are_filtered_in_any_string() -> None:
    """user:password@ in URLs is replaced everywhere, including messages and exception values."""
    event = {
        "exception": {
            "values": [{"type": "E", "value": "cannot reach postgres://bob:hunter2@db:5432/app"}]
        },
        "logentry": {"formatted": "GET https://u:p@example.com/x failed"},
        "extra": {"dsn_like": "redis://:pw@cache:6379/0"},
    }
    scrub_event(event, OPTIONS)
    assert event["exception"]["values"][0]["value"] == (  # type: ignore[index]
        "cannot reach postgres://[Filtered]:[Filtered]@db:5432/app"
    )
    assert (
        event["logentry"]["formatted"] == "GET https://[Filtered]:[Filtered]@example.com/x failed"
    )  # type: ignore[index]
    assert "pw" not in str(event["extra"])


def test_bearer_tokens_and_jwts_are_filtered() -> None:
    """Bearer tokens, JWTs and well-known API token formats are replaced in strings."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl"
    event = {
        "breadcrumbs": {
            "values": [
                {"message": "sent Authorization: Bearer abcdef0123456789"},
                {"message": f"token was {jwt}"},
                {"message": "key ghp_" + "a" * 36},
            ]
        }
    }
    scrub_event(event, OPTIONS)
    messages = [c["message"] for c in event["breadcrumbs"]["values"]]  # type: ignore[index]
    assert messages == [
        "sent Authorization: Bearer [Filtered]",
        "token was [Filtered]",
        "key [Filtered]",
    ]


def test_ordinary_text_is_untouched() -> None:
    """Prose that merely mentions tokens or authors is not changed."""
    text = "unexpected token ')' in author list; see http://example.com/docs?page=2"
    event = {"logentry": {"formatted": text}}
    scrub_event(event, OPTIONS)
    assert event["logentry"]["formatted"] == text  # type: ignore[index]


def test_sensitive_query_parameters_are_filtered() -> None:
    """Query parameters with sensitive names lose their values in URLs and query strings."""
    event = {
        "request": {
            "url": "https://x/cb?code=1&access_token=abc&page=2",
            "query_string": "token=abc&page=2",
        }
    }
    scrub_event(event, _with(send_default_pii=True))
    assert event["request"]["url"] == "https://x/cb?code=1&access_token=[Filtered]&page=2"  # type: ignore[index]
    assert event["request"]["query_string"] == "token=[Filtered]&page=2"  # type: ignore[index]


def _request_event() -> dict[str, object]:
    return {
        "request": {
            "url": "https://example.com/",
            "method": "POST",
            "data": {"name": "n"},
            "cookies": {"sessionid": "s", "theme": "dark"},
            "headers": {
                "Cookie": "sessionid=s",
                "Authorization": "Basic dXNlcjpwYXNz",
                "X-Forwarded-For": "203.0.113.9",
                "Accept": "text/html",
            },
            "env": {"REMOTE_ADDR": "203.0.113.9", "SERVER_NAME": "web"},
        },
        "user": {"id": "7", "ip_address": "203.0.113.9"},
    }


def test_without_pii_cookies_bodies_and_ips_are_removed() -> None:
    """send_default_pii=False: no cookies, body, IP addresses or credential headers."""
    event = _request_event()
    scrub_event(event, OPTIONS)
    request = event["request"]
    assert "cookies" not in request and "data" not in request  # type: ignore[operator]
    assert request["headers"] == {"Authorization": FILTERED, "Accept": "text/html"}  # type: ignore[index]
    assert request["env"] == {"SERVER_NAME": "web"}  # type: ignore[index]
    assert event["user"] == {"id": "7"}


def test_without_pii_removal_happens_even_with_scrubbing_off() -> None:
    """scrub_data=False does not bring back cookies or IPs when PII is not allowed."""
    event = _request_event()
    scrub_event(event, _with(scrub_data=False))
    assert "cookies" not in event["request"]  # type: ignore[operator]
    assert "ip_address" not in event["user"]  # type: ignore[operator]
    assert event["request"]["headers"]["Authorization"] == FILTERED  # type: ignore[index]


def test_with_pii_cookies_stay_but_secrets_are_filtered() -> None:
    """send_default_pii=True keeps cookies and IPs, but still filters session cookies."""
    event = _request_event()
    scrub_event(event, _with(send_default_pii=True))
    request = event["request"]
    assert request["cookies"] == {"sessionid": FILTERED, "theme": "dark"}  # type: ignore[index]
    assert request["headers"]["X-Forwarded-For"] == "203.0.113.9"  # type: ignore[index]
    assert request["headers"]["Cookie"] == FILTERED  # type: ignore[index]
    assert event["user"]["ip_address"] == "203.0.113.9"  # type: ignore[index]


def test_scrubbing_can_be_turned_off() -> None:
    """scrub_data=False with PII allowed leaves the event as it was."""
    event = _request_event()
    event["extra"] = {"password": "p"}
    before = copy.deepcopy(event)
    scrub_event(event, _with(scrub_data=False, send_default_pii=True))
    assert event == before


def test_headers_as_pairs() -> None:
    """Headers given as [name, value] pairs are filtered like a mapping."""
    event = {"request": {"headers": [["Authorization", "x"], ["Accept", "y"], ["Cookie", "c"]]}}
    scrub_event(event, OPTIONS)
    assert event["request"]["headers"] == [["Authorization", FILTERED], ["Accept", "y"]]  # type: ignore[index]


def test_scrubbing_is_idempotent() -> None:
    """Scrubbing a scrubbed event changes nothing."""
    event = _request_event()
    event["extra"] = {
        "password": "p",
        "url": "https://a:b@h/?token=t",
        "note": "Bearer abcdefghijkl",
    }
    scrub_event(event, OPTIONS)
    once = copy.deepcopy(event)
    scrub_event(event, OPTIONS)
    assert event == once
    assert [getattr(v, "meta", None) for v in event["extra"].values()] == [  # type: ignore[attr-defined]
        getattr(v, "meta", None) for v in once["extra"].values()
    ]


def test_filtered_values_carry_meta() -> None:
    """A filtered value records a Relay remark so the UI can say it was scrubbed."""
    event = {"extra": {"password": "p"}}
    scrub_event(event, OPTIONS)
    assert event["extra"]["password"].meta == {"rem": [["!config", "s"]]}  # type: ignore[attr-defined]


def test_scrubbing_copies_instead_of_changing_shared_data() -> None:
    """Values shared with the scope are replaced by scrubbed copies, not changed in place."""
    crumb_data = {"token": "t", "n": 1}
    extra = {"password": "p"}
    event = {"breadcrumbs": {"values": [{"message": "m", "data": crumb_data}]}, "extra": extra}
    scrub_event(event, OPTIONS)
    assert crumb_data == {"token": "t", "n": 1}
    assert extra == {"password": "p"}
    assert event["breadcrumbs"]["values"][0]["data"]["token"] == FILTERED  # type: ignore[index]
    assert event["extra"]["password"] == FILTERED  # type: ignore[index]
