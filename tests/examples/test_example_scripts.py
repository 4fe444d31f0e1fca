"""The example scripts, each run in its own interpreter against a loopback receiver."""

from __future__ import annotations

from typing import Any

from examples_support import FIXTURE_DUMP, SERVER_EVENT_ID, Receiver, assert_clean_run, run_example


def _exception_types(event: dict[str, Any]) -> list[str]:
    return [value["type"] for value in event.get("exception", {}).get("values", [])]


def _crumb_messages(event: dict[str, Any]) -> list[str]:
    crumbs = event.get("breadcrumbs", {})
    values = crumbs.get("values", []) if isinstance(crumbs, dict) else crumbs
    return [crumb.get("message") for crumb in values]


def test_basic_sends_exception_and_message_with_context(receiver: Receiver) -> None:
    """basic.py sends its caught ValueError and its message, both with user, tag and breadcrumb."""
    result = run_example("basic.py", dsn=receiver.dsn)
    assert_clean_run(result)

    events: list[dict[str, Any]] = receiver.events()
    assert len(events) == 2
    error, message = events
    assert _exception_types(error) == ["ValueError"]
    assert error["exception"]["values"][0]["mechanism"]["handled"] is True
    assert message["logentry"]["formatted"] == "checkout was slow"
    assert message["level"] == "warning"
    for event in events:
        assert event["user"]["id"] == "42"
        assert event["tags"]["shop"] == "north"
        assert event["release"] == "basic-example@1.0.0"
        assert "added 3 apples" in _crumb_messages(event)
    # The ids it printed are the ids the server received.
    assert error["event_id"] in result.stdout
    assert message["event_id"] in result.stdout


def test_logging_example_turns_records_into_crumbs_and_events(receiver: Receiver) -> None:
    """logging_example.py sends the logged error with its exception, and with explicit levels only the CRITICAL record."""
    result = run_example("logging_example.py", dsn=receiver.dsn)
    assert_clean_run(result)

    events: list[dict[str, Any]] = receiver.events()
    assert [event["tags"]["part"] for event in events] == ["default", "explicit"]
    logged, critical = events

    assert logged["level"] == "error"
    assert logged["logger"] == "inventory"
    assert logged["logentry"]["formatted"] == "settings file is broken; using defaults"
    assert _exception_types(logged)[-1] == "JSONDecodeError"
    assert logged["exception"]["values"][-1]["mechanism"]["type"] == "logging"
    assert "reading settings from settings.json" in _crumb_messages(logged)

    assert critical["level"] == "fatal"
    assert critical["logentry"]["formatted"] == "warehouse database is read-only"
    crumbs = _crumb_messages(critical)
    assert "shelf 7 is nearly empty" in crumbs
    assert "scanner 2 did not answer" in crumbs
    assert "counting shelves" not in crumbs  # INFO is below the explicit `level`
    assert "poll timed out" not in crumbs  # its logger is ignored


def test_before_send_drops_one_type_and_edits_the_rest(receiver: Receiver) -> None:
    """before_send_filtering.py never sends the ConnectionResetError, and the events it sends are scrubbed and tagged."""
    result = run_example("before_send_filtering.py", dsn=receiver.dsn)
    assert_clean_run(result)
    assert "ConnectionResetError reported: None" in result.stdout

    events: list[dict[str, Any]] = receiver.events()
    assert len(events) == 2
    error, message = events
    assert _exception_types(error) == ["ValueError"]
    assert all("ConnectionResetError" not in _exception_types(event) for event in events)
    for event in events:
        assert event["tags"]["region"] == "eu-west"
        assert event["extra"]["card_number"] == "[removed]"


def test_upload_minidump_sends_the_fixture_and_prints_the_server_id(receiver: Receiver) -> None:
    """upload_minidump.py uploads the fixture byte for byte with its fields, and prints the server's id."""
    result = run_example("upload_minidump.py", dsn=receiver.dsn)
    assert_clean_run(result)

    (upload,) = receiver.uploads()
    assert upload.dump == FIXTURE_DUMP.read_bytes()
    assert upload.filename == "crash_linux.dmp"
    assert upload.fields["build_flavor"] == "release"
    event = upload.sentry()
    assert event["tags"] == {"component": "physics-engine", "uploaded_by": "upload_minidump.py"}
    assert event["level"] == "fatal"
    assert event["platform"] == "native"
    assert f"uploading crash_linux.dmp as event {event['event_id']}" in result.stdout
    assert f"server event id: {SERVER_EVENT_ID}" in result.stdout


def test_upload_minidump_takes_a_path_argument(receiver: Receiver, tmp_path: Any) -> None:
    """upload_minidump.py uploads the file named on its command line."""
    dump = tmp_path / "engine.dmp"
    dump.write_bytes(FIXTURE_DUMP.read_bytes())
    result = run_example("upload_minidump.py", str(dump), dsn=receiver.dsn)
    assert_clean_run(result)

    (upload,) = receiver.uploads()
    assert upload.filename == "engine.dmp"
    assert upload.dump == dump.read_bytes()
