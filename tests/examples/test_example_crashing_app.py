"""The demo's crashing app, run against a loopback receiver instead of Bugsink."""

from __future__ import annotations

from typing import Any

from examples_support import Receiver, run_example


def test_crashing_app_reports_the_logged_error_and_the_crash(receiver: Receiver) -> None:
    """crashing_app.py sends its logged KeyError and its uncaught chained crash, with context and scrubbed locals."""
    result = run_example("crashing_app.py", dsn=receiver.dsn)
    assert result.returncode == 1, result.stderr  # it dies of an uncaught exception
    assert "internal error" not in result.stderr

    events: list[dict[str, Any]] = receiver.events()
    assert len(events) == 2
    logged, crash = events
    for event in events:
        assert event["user"] == {"id": "7", "username": "warehouse-bot"}
        assert event["tags"]["warehouse"] == "east"
        assert event["release"] == "crashing-app@1.0.0"
        assert event["environment"] == "demo"

    (key_error,) = logged["exception"]["values"]
    assert key_error["type"] == "KeyError"
    assert key_error["mechanism"]["type"] == "logging"
    assert key_error["mechanism"]["handled"] is True
    assert logged["logentry"]["formatted"] == "order A-1002 names an unknown item; skipped"

    chain = crash["exception"]["values"]
    assert [value["type"] for value in chain] == ["OutOfStock", "RuntimeError"]
    assert chain[-1]["mechanism"]["type"] == "excepthook"
    assert chain[-1]["mechanism"]["handled"] is False
    crumbs = [crumb.get("message") for crumb in crash["breadcrumbs"]["values"]]
    assert "processing A-1003" in crumbs
    # The secret in a local variable of the crashing frame is scrubbed.
    frames = chain[-1]["stacktrace"]["frames"]
    process_vars = next(f["vars"] for f in frames if f.get("function") == "process")
    assert process_vars["db_password"] == "[Filtered]"
    # (The source lines shown around each frame still contain the literal default.)
    assert all(
        "hunter2" not in str(f.get("vars"))
        for value in chain
        for f in value["stacktrace"]["frames"]
    )
