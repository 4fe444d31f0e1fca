"""tripwire against a real Bugsink: each scenario runs in its own Python process, then reads what was stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from bugsink_server import BugsinkServer
from e2e_scenarios import (
    exceptions_of,
    frames_of,
    run_script,
    stored_events,
    succeeded,
    unique_release,
)

pytestmark = pytest.mark.e2e


def test_message_with_tags_user_release_and_environment(
    bugsink: BugsinkServer, tmp_path: Path
) -> None:
    """A captured message is stored with its level, tags, user, release and environment."""
    release = unique_release("message")
    result = run_script(
        tmp_path,
        bugsink,
        release,
        """
        tripwire.init(DSN, release=RELEASE, environment="e2e-staging")
        tripwire.set_tag("flavour", "message")
        tripwire.set_user({"id": "42", "username": "e2e-user"})
        print("event:", tripwire.capture_message("hello from the e2e suite", level="warning"))
        print("flush:", tripwire.flush(10.0))
        """,
    )
    out = succeeded(result)
    [event_id] = [line.split()[1] for line in out.splitlines() if line.startswith("event:")]
    [event] = stored_events(bugsink, release, result)
    assert event["event_id"] == event_id
    assert event["level"] == "warning"
    assert event["environment"] == "e2e-staging"
    assert event["user"] == {"id": "42", "username": "e2e-user"}
    logentry = event.get("logentry") or {}
    assert "hello from the e2e suite" in (
        event.get("message"),
        logentry.get("formatted"),  # type: ignore[union-attr]
        logentry.get("message"),  # type: ignore[union-attr]
    )
    tags = bugsink.event_tags(event_id)
    assert tags["flavour"] == "message"
    assert tags["release"] == release
    assert tags["environment"] == "e2e-staging"
    [issue] = bugsink.issues(release=release)
    assert "hello from the e2e suite" in issue.title


def test_chained_exception_with_scrubbed_locals(bugsink: BugsinkServer, tmp_path: Path) -> None:
    """A chained exception arrives oldest first, with its raising functions and scrubbed locals."""
    release = unique_release("chained")
    result = run_script(
        tmp_path,
        bugsink,
        release,
        """
        tripwire.init(DSN, release=RELEASE)

        def connect(host):
            db_password = "hunter2-must-not-leak"
            retries = 3
            raise ConnectionError(f"{host} unreachable after {retries} tries")

        def load_user(user_id):
            try:
                connect("db.internal")
            except ConnectionError as exc:
                raise LookupError(f"user {user_id} not loaded") from exc

        try:
            load_user(7)
        except LookupError:
            tripwire.capture_exception()
        print("flush:", tripwire.flush(10.0))
        """,
    )
    succeeded(result)
    [event] = stored_events(bugsink, release, result)
    exceptions = exceptions_of(event)
    assert [e["type"] for e in exceptions] == ["ConnectionError", "LookupError"]
    assert exceptions[1]["value"] == "user 7 not loaded"
    cause_frames = frames_of(exceptions[0])
    assert cause_frames[-1]["function"] == "connect"
    assert "load_user" in [f["function"] for f in frames_of(exceptions[1])]
    variables = cause_frames[-1]["vars"]
    assert isinstance(variables, dict)
    assert variables["db_password"] == "[Filtered]"
    assert str(variables["retries"]) == "3"
    assert "db.internal" in str(variables["host"])
    # The source lines around each frame may quote it; no captured variable may hold it.
    every_var = [
        str(frame.get("vars")) for exception in exceptions for frame in frames_of(exception)
    ]
    assert not [v for v in every_var if "hunter2-must-not-leak" in v]
    [issue] = bugsink.issues(release=release)
    assert issue.title == "LookupError: user 7 not loaded"


def test_two_hundred_events_at_exit_without_flush(bugsink: BugsinkServer, tmp_path: Path) -> None:
    """200 events captured right before the interpreter exits are all delivered by the exit hook."""
    release = unique_release("burst")
    result = run_script(
        tmp_path,
        bugsink,
        release,
        """
        # Bugsink digests each event inside its request (50-150 ms each on a
        # busy machine), so the exit hook gets more than the 2 s default.
        tripwire.init(DSN, release=RELEASE, shutdown_timeout=90.0)
        for i in range(200):
            tripwire.capture_message("burst at exit", level="info")
        """,
        timeout=100.0,
    )
    succeeded(result)
    events = stored_events(bugsink, release, result, 200, timeout=10.0)
    assert len(events) == 200
    assert len({e["event_id"] for e in events}) == 200


def test_store_endpoint_mode(bugsink: BugsinkServer, tmp_path: Path) -> None:
    """With use_store_endpoint=True the exception is POSTed to /store/ and stored."""
    release = unique_release("store")

    def store_posts() -> int:
        return sum(
            1 for line in bugsink.access_log() if "/store/" in line and "tripwire" in line.lower()
        )

    before = store_posts()
    result = run_script(
        tmp_path,
        bugsink,
        release,
        """
        tripwire.init(DSN, release=RELEASE, use_store_endpoint=True)
        try:
            {}["missing"]
        except KeyError:
            tripwire.capture_exception()
        print("flush:", tripwire.flush(10.0))
        """,
    )
    succeeded(result)
    [event] = stored_events(bugsink, release, result)
    assert [e["type"] for e in exceptions_of(event)] == ["KeyError"]
    assert store_posts() == before + 1
