"""Minidumps uploaded by tripwire.capture_minidump, as Bugsink stores them."""

from __future__ import annotations

from pathlib import Path

import pytest
from bugsink_server import MINIDUMP_FIXTURES, BugsinkServer
from e2e_scenarios import exceptions_of, run_script, stored_events, succeeded, unique_release

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("fixture", ["crash_linux.dmp", "crash_macos.dmp"])
def test_minidump_upload_with_release_and_tags(
    bugsink: BugsinkServer, tmp_path: Path, fixture: str
) -> None:
    """A fixture minidump is stored as a native crash with the scope's release and tags, under the server's id."""
    release = unique_release("minidump")
    result = run_script(
        tmp_path,
        bugsink,
        release,
        f"""
        tripwire.init(DSN, release=RELEASE, environment="e2e")
        tripwire.set_tag("flavour", "minidump")
        tripwire.capture_minidump({str(MINIDUMP_FIXTURES / fixture)!r}, fields={{"build": "e2e"}})
        print("flush:", tripwire.flush(10.0))
        print("event:", tripwire.last_event_id())
        """,
    )
    out = succeeded(result)
    [event] = stored_events(bugsink, release, result)
    assert event["platform"] == "native"
    assert event["environment"] == "e2e"
    assert exceptions_of(event), "the dump's crash is the event's exception"
    # Bugsink answers a minidump upload with an id of its own; tripwire reports that one.
    assert f"event: {event['event_id']}" in out.splitlines()
    assert bugsink.event_tags(str(event["event_id"]))["flavour"] == "minidump"


def test_minidump_as_envelope_attachment(bugsink: BugsinkServer, tmp_path: Path) -> None:
    """With minidump_as_envelope=True the dump travels as an event.minidump attachment and is processed."""
    release = unique_release("minidump-envelope")
    result = run_script(
        tmp_path,
        bugsink,
        release,
        f"""
        tripwire.init(DSN, release=RELEASE, minidump_as_envelope=True)
        tripwire.set_tag("flavour", "minidump-envelope")
        tripwire.capture_minidump({str(MINIDUMP_FIXTURES / "crash_linux.dmp")!r})
        print("flush:", tripwire.flush(10.0))
        """,
    )
    succeeded(result)
    [event] = stored_events(bugsink, release, result)
    assert event["platform"] == "native"
    assert str(exceptions_of(event)[0]["type"]).startswith("SIGSEGV")
    assert bugsink.event_tags(str(event["event_id"]))["flavour"] == "minidump-envelope"
