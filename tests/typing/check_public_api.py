"""Type-checked (not run) uses of the public API: `mypy --strict` must accept this file.

The `type` tox environment checks it together with `src/`.
"""

from __future__ import annotations

from typing import Optional

from typing_extensions import assert_type

import tripwire


def uses() -> None:
    guard = tripwire.init(dsn=None, release="x@1", sample_rate=0.5)
    assert_type(guard, tripwire.InitGuard)
    assert_type(tripwire.capture_message("x"), Optional[str])
    assert_type(tripwire.capture_exception(ValueError("x")), Optional[str])
    assert_type(tripwire.capture_event({"message": "x"}), Optional[str])
    assert_type(tripwire.last_event_id(), Optional[str])
    assert_type(tripwire.flush(2.0), Optional[tripwire.FlushResult])
    assert_type(tripwire.get_client(), tripwire.Client)
    assert_type(tripwire.is_initialized(), bool)
    tripwire.add_breadcrumb(message="m", category="c", data={"k": 1})
    tripwire.set_tag("k", "v")
    tripwire.set_user({"id": "1"})
    tripwire.set_user(None)
    with tripwire.push_scope() as scope:
        assert_type(scope, tripwire.Scope)
        scope.set_tag("k", "v")
    with tripwire.configure_scope() as scope:
        scope.set_context("c", {"a": 1})
    with tripwire.new_scope() as scope:
        assert_type(scope, tripwire.Scope)
    with tripwire.isolation_scope() as scope:
        assert_type(scope, tripwire.Scope)
    assert_type(tripwire.Hub.current, tripwire.Hub)
    assert_type(tripwire.Hub.current.capture_message("x"), Optional[str])
    with guard:
        pass
