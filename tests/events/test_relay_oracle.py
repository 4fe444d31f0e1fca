"""Every event shape built here passes Relay's own normalizer without errors."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tripwire import _environment
from tripwire._finalize import MAX_EVENT_BYTES, finalize_event, minimal_event
from tripwire._options import Options
from tripwire._serialize import ReprBudget, snapshot
from tripwire._stacktrace import current_stack, exception_values

relay = pytest.importorskip("sentry_relay.processing")

OPTIONS = Options()


def normalize(payload: bytes) -> dict[str, object]:
    """Relay's store normalization of the encoded event."""
    event = json.loads(payload)
    return relay.StoreNormalizer(project_id=1).normalize_event(event)  # type: ignore[no-any-return]


def assert_accepted(payload: bytes) -> dict[str, object]:
    normalized = normalize(payload)
    assert not normalized.get("errors"), normalized.get("errors")
    return normalized


class Weird:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def _crash(depth: int) -> None:
    password = "hunter2"  # noqa: F841 - scrubbed local
    payload = {"auth": {"password": "x"}, "numbers": list(range(30)), "weird": Weird()}  # noqa: F841
    blob = b"\x00\xffbinary"  # noqa: F841
    ratio = float("nan")  # noqa: F841
    if depth:
        _crash(depth - 1)
    raise ValueError("failed to reach postgres://bob:secret@db/app")


def _caught() -> BaseException:
    try:
        try:
            _crash(10)
        except ValueError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as exc:
        return exc
    raise AssertionError("unreachable")


def full_event(options: Options = OPTIONS) -> dict[str, object]:
    """A realistic event with every part tripwire produces."""
    exc = _caught()
    now = time.time()
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": now,
        "platform": "python",
        "level": "error",
        "logger": "app.views",
        "server_name": "web-1",
        "release": "abc123",
        "environment": "production",
        "dist": "1",
        "transaction": "/checkout",
        "fingerprint": ["{{ default }}", "checkout"],
        "exception": {
            "values": exception_values(
                exc, options, mechanism_type="logging", handled=False, budget=ReprBudget(0.1)
            )
        },
        "threads": {
            "values": [
                {
                    "id": 1,
                    "name": "MainThread",
                    "current": True,
                    "main": True,
                    "stacktrace": current_stack(options),
                }
            ]
        },
        "logentry": {
            "message": "checkout failed for %s",
            "params": ["order-1"],
            "formatted": "checkout failed for order-1",
        },
        "contexts": {
            "os": _environment.os_context(),
            "runtime": _environment.runtime_context(),
            "trace": _environment.new_trace_context(),
            "app": {"token": "t", "name": "shop"},
        },
        "sdk": _environment.sdk_info(["logging", "atexit"]),
        "modules": _environment.installed_modules(),
        "breadcrumbs": {
            "values": [
                {
                    "timestamp": now - 2,
                    "type": "default",
                    "category": "log",
                    "level": "info",
                    "message": "start",
                },
                {
                    "timestamp": now - 1,
                    "type": "http",
                    "category": "httplib",
                    "data": {
                        "url": "https://u:p@api.example.com/?token=x",
                        "method": "GET",
                        "status_code": 200,
                    },
                },
            ]
        },
        "user": {"id": "42", "email": "a@example.com", "ip_address": "203.0.113.1"},
        "tags": {"region": "eu", "csrf": "x"},
        "extra": {
            "order": snapshot({"id": 1, "lines": list(range(40)), "obj": Weird()}),
            "api_key": "k",
        },
        "request": {
            "url": "https://shop.example.com/checkout?session_id=abc",
            "method": "POST",
            "headers": {
                "Authorization": "Bearer abcdefghijklmnop",
                "User-Agent": "ua",
                "Cookie": "a=b",
            },
            "cookies": {"sessionid": "s"},
            "data": {"card": "4111"},
            "env": {"REMOTE_ADDR": "203.0.113.1", "SERVER_PORT": "443"},
            "query_string": "session_id=abc&page=2",
        },
    }


def test_full_event_is_accepted() -> None:
    """A full exception event with every interface passes Relay without errors."""
    normalized = assert_accepted(finalize_event(full_event(), OPTIONS))
    values = normalized["exception"]["values"]  # type: ignore[index]
    assert [v["type"] for v in values] == ["ValueError", "RuntimeError"]
    assert values[0]["value"] == "failed to reach postgres://[Filtered]:[Filtered]@db/app"  # type: ignore[index]
    top = values[0]["stacktrace"]["frames"][-1]  # type: ignore[index]
    assert top["vars"]["password"] == "[Filtered]"


def test_full_event_with_pii_and_no_scrubbing_is_accepted() -> None:
    """With PII on and scrubbing off, the untouched shapes are accepted too."""
    options = dataclasses.replace(OPTIONS, send_default_pii=True, scrub_data=False)
    assert_accepted(finalize_event(full_event(options), options))


def test_meta_survives_relay() -> None:
    """Relay keeps the _meta notes tripwire writes (trim lengths and scrub remarks)."""
    normalized = assert_accepted(finalize_event(full_event(), OPTIONS))
    meta = json.dumps(normalized.get("_meta"))
    assert '"len": 40' in meta
    assert "!config" in meta


def test_deep_stack_event_is_accepted() -> None:
    """A RecursionError event with frames_omitted passes Relay."""

    def recurse(n: int) -> int:
        return recurse(n + 1)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(3000)
    try:
        try:
            recurse(0)
        except RecursionError as exc:
            error = exc
    finally:
        sys.setrecursionlimit(limit)
    event = {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "exception": {"values": exception_values(error, OPTIONS)},
    }
    payload = finalize_event(event, OPTIONS)
    assert json.loads(payload)["exception"]["values"][0]["stacktrace"]["frames_omitted"][0] == 51
    normalized = assert_accepted(payload)
    # Relay accepts frames_omitted but does not keep it in the normalized event.
    assert len(normalized["exception"]["values"][0]["stacktrace"]["frames"]) == 100  # type: ignore[index]


def test_exception_group_event_is_accepted() -> None:
    """An exception group flattened with its mechanism tree passes Relay."""
    if sys.version_info >= (3, 11):
        group_type = ExceptionGroup  # noqa: F821
    else:  # pragma: no cover
        group_type = pytest.importorskip("exceptiongroup").ExceptionGroup
    try:
        raise group_type("many", [ValueError("a"), group_type("inner", [KeyError("b")])])
    except Exception as exc:
        error = exc
    event = {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "exception": {"values": exception_values(error, OPTIONS)},
    }
    normalized = assert_accepted(finalize_event(event, OPTIONS))
    assert len(normalized["exception"]["values"]) == 4  # type: ignore[index]


def test_oversized_event_is_accepted() -> None:
    """An event trimmed to fit the size limit, with its trim notes, passes Relay."""
    event = full_event()
    for value in event["exception"]["values"]:  # type: ignore[index]
        for frame in value["stacktrace"]["frames"]:
            frame["vars"]["blob"] = "x" * 200_000
    event["breadcrumbs"]["values"][1]["data"]["body"] = "y" * 300_000  # type: ignore[index]
    payload = finalize_event(event, OPTIONS)
    assert len(payload) <= MAX_EVENT_BYTES
    normalized = assert_accepted(payload)
    assert "!limit" in json.dumps(normalized["_meta"])


def test_minimal_event_is_accepted() -> None:
    """The minimal retry version of a full event passes Relay."""
    small = minimal_event(full_event())
    assert_accepted(finalize_event(small, OPTIONS))


def test_message_event_with_long_text_is_accepted() -> None:
    """A message event with a trimmed 20 000-character message passes Relay."""
    event = {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "level": "warning",
        "logentry": {"formatted": "z" * 20_000},
        "threads": {"values": [{"id": 1, "current": True, "stacktrace": current_stack(OPTIONS)}]},
    }
    normalized = assert_accepted(finalize_event(event, OPTIONS))
    assert len(normalized["logentry"]["formatted"]) <= 8192  # type: ignore[index]


# --- property tests -------------------------------------------------------------------

_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(max_size=64),
    st.builds(Weird),
    st.builds(object),
    st.complex_numbers(allow_nan=True),
    st.decimals(allow_nan=True),
    st.datetimes(),
)
_keys = st.one_of(
    st.text(max_size=20), st.integers(), st.none(), st.tuples(st.integers()), st.floats()
)
_values = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=15),
        st.tuples(children, children),
        st.frozensets(st.integers(), max_size=12),
        st.dictionaries(_keys, children, max_size=15),
    ),
    max_leaves=60,
)


def _frame_with(locals_: dict[str, object]) -> dict[str, object]:
    # The locals of a real frame: exec a function whose locals are the generated values.
    namespace: dict[str, object] = {}
    names = [f"v{i}" for i in range(len(locals_))]
    source = "def probe({}):\n    raise ValueError('probe')\n".format(", ".join(names))
    exec(compile(source, "<probe>", "exec"), namespace)  # noqa: S102 - test input only
    try:
        namespace["probe"](*locals_.values())  # type: ignore[operator]
    except ValueError as exc:
        return {"values": exception_values(exc, OPTIONS)}
    raise AssertionError("unreachable")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(locals_=st.dictionaries(st.text(min_size=1, max_size=8), _values, max_size=6), extra=_values)
def test_arbitrary_locals_and_extra_always_encode(
    locals_: dict[str, object], extra: object
) -> None:
    """Arbitrary nested objects as locals and extra give JSON under the limit that Relay accepts."""
    event = {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "exception": _frame_with(locals_),
        "extra": {"value": snapshot(extra), "raw": extra},
    }
    payload = finalize_event(event, OPTIONS)
    assert len(payload) <= MAX_EVENT_BYTES
    json.loads(payload)
    assert_accepted(payload)


@settings(max_examples=40, deadline=None)
@given(value=_values)
def test_snapshot_is_json_for_anything(value: object) -> None:
    """snapshot() of any value is strict JSON."""
    json.dumps(snapshot(value), allow_nan=False)
