"""The hub, the module-level API over it, and the isolation rule between threads and tasks."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import pytest

import tripwire
from tripwire import Hub
from tripwire.testing import CapturingTransport

EVENT_ID = re.compile(r"^[0-9a-f]{32}$")


def start(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    tripwire.init(transport=transport, **options)
    return transport


def extra(event: dict[str, Any]) -> dict[str, Any]:
    """The event's extra without what the argv integration adds."""
    return {k: v for k, v in event.get("extra", {}).items() if k != "sys.argv"}


def test_capture_functions_return_event_ids() -> None:
    """capture_message, capture_exception and capture_event return 32 lowercase hex ids."""
    transport = start()
    assert EVENT_ID.match(tripwire.capture_message("hi") or "")
    try:
        raise ValueError("x")
    except ValueError:
        assert EVENT_ID.match(tripwire.capture_exception() or "")
    assert EVENT_ID.match(tripwire.capture_event({"message": "raw"}) or "")
    assert len(transport.events) == 3
    assert tripwire.last_event_id() == transport.events[-1]["event_id"]


def test_disabled_sdk_is_a_no_op() -> None:
    """Without a DSN every call returns None, sends nothing and starts no thread."""
    threads_before = threading.active_count()
    tripwire.init(dsn=None)
    assert not tripwire.is_initialized()
    assert tripwire.capture_message("x") is None
    assert tripwire.capture_exception(ValueError("x")) is None
    tripwire.add_breadcrumb(message="m")
    tripwire.set_tag("a", "b")
    assert tripwire.flush() is None
    assert tripwire.last_event_id() is None
    assert not tripwire.get_client().is_active()
    assert threading.active_count() == threads_before


def test_capture_exception_without_anything_to_capture_returns_none() -> None:
    """capture_exception() outside an except block returns None and sends nothing."""
    transport = start()
    assert tripwire.capture_exception() is None
    assert transport.events == []


def test_message_level_and_scope_kwargs() -> None:
    """capture_message sends logentry.formatted at its level; scope kwargs apply to it only."""
    transport = start()
    tripwire.capture_message("disk low", level="warning", tags={"disk": "sda"})
    tripwire.capture_message("after")
    first, second = transport.events
    assert first["logentry"]["formatted"] == "disk low"
    assert first["level"] == "warning"
    assert first["tags"] == {"disk": "sda"}
    assert second["level"] == "info"
    assert "tags" not in second


def test_module_level_scope_setters_reach_events() -> None:
    """set_tag/set_tags/set_user/set_context/set_extra/set_level all land on the event."""
    transport = start()
    tripwire.set_tag("a", "1")
    tripwire.set_tags({"b": "2"})
    tripwire.set_user({"id": "42"})
    tripwire.set_context("order", {"id": 9})
    tripwire.set_extra("note", "hello")
    tripwire.set_level("warning")
    tripwire.capture_message("m")
    (event,) = transport.events
    assert event["tags"] == {"a": "1", "b": "2"}
    assert event["user"] == {"id": "42"}
    assert event["contexts"]["order"] == {"id": 9}
    assert extra(event) == {"note": "hello"}


def test_push_scope_changes_vanish_on_exit_even_when_raising() -> None:
    """push_scope's changes are undone on exit, also when the block raises."""
    transport = start()
    tripwire.set_tag("outer", "yes")
    with pytest.raises(RuntimeError), tripwire.push_scope() as scope:
        scope.set_tag("inner", "yes")
        tripwire.capture_message("inside")
        raise RuntimeError("leave the block")
    tripwire.capture_message("outside")
    inside, outside = transport.events
    assert inside["tags"] == {"outer": "yes", "inner": "yes"}
    assert outside["tags"] == {"outer": "yes"}


def test_push_scope_callback_form() -> None:
    """push_scope(callback) runs the callback in a temporary scope."""
    transport = start()

    def inside(scope: tripwire.Scope) -> None:
        scope.set_tag("cb", "1")
        tripwire.capture_message("in callback")

    tripwire.push_scope(inside)
    tripwire.capture_message("after")
    assert transport.events[0]["tags"] == {"cb": "1"}
    assert "tags" not in transport.events[1]


def test_configure_scope_changes_the_current_scope() -> None:
    """configure_scope changes persist after the block."""
    transport = start()
    with tripwire.configure_scope() as scope:
        scope.set_tag("persist", "1")
    tripwire.configure_scope(lambda s: s.set_tag("cb", "2"))
    tripwire.capture_message("m")
    assert transport.events[0]["tags"] == {"persist": "1", "cb": "2"}


def test_new_scope_and_isolation_scope() -> None:
    """new_scope and isolation_scope keep their changes inside the block."""
    transport = start()
    with tripwire.new_scope() as scope:
        scope.set_tag("n", "1")
        tripwire.capture_message("a")
    with tripwire.isolation_scope() as scope:
        scope.set_tag("i", "1")
        tripwire.capture_message("b")
    tripwire.capture_message("c")
    a, b, c = transport.events
    assert a["tags"] == {"n": "1"}
    assert b["tags"] == {"i": "1"}
    assert "tags" not in c


def test_breadcrumbs_defaults_and_ring_buffer() -> None:
    """Breadcrumbs get type/level/timestamp defaults; only max_breadcrumbs newest are kept."""
    transport = start(max_breadcrumbs=3)
    for i in range(5):
        tripwire.add_breadcrumb(message=f"step {i}", category="test")
    tripwire.add_breadcrumb({"message": "dict form", "level": "warning"})
    tripwire.capture_message("m")
    crumbs = transport.events[0]["breadcrumbs"]["values"]
    assert [c["message"] for c in crumbs] == ["step 3", "step 4", "dict form"]
    assert crumbs[0]["type"] == "default"
    assert crumbs[0]["level"] == "info"
    assert crumbs[2]["level"] == "warning"
    assert isinstance(crumbs[0]["timestamp"], float)


def test_max_breadcrumbs_zero_disables_them() -> None:
    """max_breadcrumbs=0 records no breadcrumbs."""
    transport = start(max_breadcrumbs=0)
    tripwire.add_breadcrumb(message="m")
    tripwire.capture_message("m")
    assert "breadcrumbs" not in transport.events[0]


def test_before_breadcrumb_changes_drops_or_survives_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """before_breadcrumb may change or drop a crumb; if it raises the crumb is kept."""

    def hook(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        if crumb["message"] == "drop":
            return None
        if crumb["message"] == "raise":
            raise RuntimeError("bad hook")
        crumb["data"] = {"seen": hint.get("h")}
        return crumb

    transport = start(before_breadcrumb=hook)
    tripwire.add_breadcrumb(message="keep", hint={"h": 1})
    tripwire.add_breadcrumb(message="drop")
    tripwire.add_breadcrumb(message="raise")
    tripwire.capture_message("m")
    crumbs = transport.events[0]["breadcrumbs"]["values"]
    assert [c["message"] for c in crumbs] == ["keep", "raise"]
    assert crumbs[0]["data"] == {"seen": 1}
    assert any("before_breadcrumb raised" in r.getMessage() for r in caplog.records)


def test_with_hub_runs_against_a_copy() -> None:
    """`with Hub(Hub.current):` isolates scope changes made inside it."""
    transport = start()
    tripwire.set_tag("base", "1")
    with Hub(Hub.current) as hub:
        assert Hub.current is hub
        tripwire.set_tag("copy", "1")
        hub.capture_message("inside")
        assert hub.last_event_id() == transport.events[-1]["event_id"]
    tripwire.capture_message("outside")
    assert transport.events[0]["tags"] == {"base": "1", "copy": "1"}
    assert transport.events[1]["tags"] == {"base": "1"}


def test_hub_bind_client_and_flush() -> None:
    """bind_client replaces a hub's client; flush returns the transport's result."""
    start()
    other = CapturingTransport()
    client = tripwire.Client(tripwire._options.build_options(transport=other))
    with Hub(Hub.current) as hub:
        hub.bind_client(client)
        hub.capture_message("to other")
        assert hub.flush(1.0) is not None
    assert len(other.events) == 1


def test_init_returns_a_context_manager_that_closes_the_client() -> None:
    """Leaving `with tripwire.init(...)` closes the client; later captures are no-ops."""
    transport = CapturingTransport()
    with tripwire.init(transport=transport) as guard:
        assert tripwire.capture_message("inside") is not None
    assert transport.closed
    assert not guard.client.is_active()
    assert tripwire.capture_message("after") is None


def test_thread_isolation_with_eight_threads() -> None:
    """Tags set in one of 8 threads never reach another thread's events; main-hub data does."""
    transport = start()
    tripwire.set_tag("server", "web-1")
    barrier = threading.Barrier(8, timeout=10)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            tripwire.set_tag("worker", str(n))
            tripwire.set_user({"id": str(n)})
            barrier.wait()
            tripwire.capture_message(f"from {n}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert len(transport.events) == 8
    for event in transport.events:
        n = event["logentry"]["formatted"].split()[-1]
        assert event["tags"] == {"server": "web-1", "worker": n}
        assert event["user"] == {"id": n}
    tripwire.capture_message("main")
    assert transport.events[-1]["tags"] == {"server": "web-1"}


def test_task_isolation_with_fifty_tasks() -> None:
    """Tags set in one of 50 concurrent asyncio tasks never reach another task's events."""
    transport = start()
    tripwire.set_tag("server", "web-1")

    async def work(n: int) -> None:
        tripwire.set_tag("task", str(n))
        await asyncio.sleep(0)
        with tripwire.configure_scope() as scope:
            scope.set_extra("n", n)
        await asyncio.sleep(0)
        tripwire.capture_message(f"from {n}")

    async def main() -> None:
        tripwire.set_tag("parent", "main")
        await asyncio.wait_for(asyncio.gather(*(work(n) for n in range(50))), 10)

    asyncio.run(main())
    assert len(transport.events) == 50
    for event in transport.events:
        n = event["logentry"]["formatted"].split()[-1]
        assert event["tags"] == {"server": "web-1", "parent": "main", "task": n}
        assert extra(event) == {"n": int(n)}
    tripwire.capture_message("main")
    assert transport.events[-1]["tags"] == {"server": "web-1"}


def test_sentry_sdk_style_script_runs_unchanged() -> None:
    """A script written against sentry_sdk's documented error API runs with tripwire."""
    import tripwire as sentry_sdk

    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport, release="app@1.0", environment="staging", traces_sample_rate=1.0
    )
    sentry_sdk.set_user({"id": "u1", "email": "u@example.com"})
    sentry_sdk.set_tag("page", "checkout")
    sentry_sdk.add_breadcrumb(category="auth", message="logged in", level="info")
    with sentry_sdk.push_scope() as scope:
        scope.set_extra("cart", {"items": 3})
        try:
            {}["missing"]
        except KeyError as exc:
            event_id = sentry_sdk.capture_exception(exc)
    sentry_sdk.capture_message("checkout failed", "error")
    with sentry_sdk.configure_scope() as scope:
        scope.set_tag("after", "1")
    assert sentry_sdk.flush(timeout=2) is not None
    assert sentry_sdk.last_event_id() == transport.events[-1]["event_id"]
    assert event_id == transport.events[0]["event_id"]
    exc_event = transport.events[0]
    assert exc_event["exception"]["values"][-1]["type"] == "KeyError"
    assert exc_event["release"] == "app@1.0"
    assert exc_event["environment"] == "staging"
    assert extra(exc_event) == {"cart": {"items": 3}}
    assert exc_event["breadcrumbs"]["values"][0]["category"] == "auth"
    assert transport.events[1]["level"] == "error"


def test_hub_forked_before_a_second_init_uses_the_new_client() -> None:
    """A thread whose hub was forked before a re-init sends to the new client."""
    start()
    ready, go = threading.Event(), threading.Event()
    results: list[str | None] = []

    def work() -> None:
        tripwire.set_tag("early", "1")  # forks this thread's hub now
        ready.set()
        go.wait(5)
        results.append(tripwire.capture_message("after re-init"))

    thread = threading.Thread(target=work)
    thread.start()
    assert ready.wait(5)
    second = start()
    go.set()
    thread.join(5)
    assert results[0] is not None
    assert [e["logentry"]["formatted"] for e in second.events] == ["after re-init"]


def test_capture_event_leaves_the_callers_dict_alone() -> None:
    """The same dict captured twice gives two events and is not filled in."""
    transport = start()
    event: dict[str, Any] = {"message": "reused"}
    first = tripwire.capture_event(event)
    second = tripwire.capture_event(event)
    assert first != second
    assert event == {"message": "reused"}
    assert len(transport.events) == 2


def test_get_client_before_init_ignores_a_bad_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """get_client() before init() never raises and never builds a transport."""
    from tripwire import _api

    monkeypatch.setenv("SENTRY_DSN", "not a dsn")
    monkeypatch.setattr(_api, "_inactive_client", None)
    client = tripwire.get_client()
    assert not client.is_active()
    assert client.transport is None
