"""The crash-folder integration: each dump uploaded once, deleted only after success."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from tripwire._minidump import open_dump
from tripwire.integrations import Integration
from tripwire.integrations.minidump_folder import (
    CrashFolder,
    MinidumpFolderIntegration,
    Outcome,
    outcome_for_status,
)

LATER = time.time() + 3600  # a scan time at which every file is old enough


class Recorder:
    """An upload callable answering from a script and remembering what it was given."""

    def __init__(self, *answers: Outcome) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    def __call__(self, path: str) -> Outcome:
        self.calls.append(path)
        return self.answers.pop(0) if self.answers else Outcome.ACCEPTED


@pytest.fixture
def crash_dir(tmp_path: Path, fixture_dir: Path) -> Path:
    """A folder holding a copy of the Linux fixture dump, as a crash handler would leave it."""
    folder = tmp_path / "crashes"
    folder.mkdir()
    shutil.copy(fixture_dir / "crash_linux.dmp", folder / "a.dmp")
    return folder


def test_accepted_dump_is_deleted(crash_dir: Path) -> None:
    """A dump the server accepted is removed from the folder."""
    upload = Recorder(Outcome.ACCEPTED)
    folder = CrashFolder(crash_dir, upload)
    assert folder.scan(LATER) == [str(crash_dir / "a.dmp")]
    assert upload.calls == [str(crash_dir / "a.dmp")]
    assert not (crash_dir / "a.dmp").exists()
    assert folder.scan(LATER) == []


def test_rejected_dump_is_moved_aside_and_never_sent_again(crash_dir: Path) -> None:
    """A dump the server rejects goes to rejected/ and later scans leave it alone."""
    upload = Recorder(Outcome.REJECTED)
    folder = CrashFolder(crash_dir, upload)
    folder.scan(LATER)
    assert not (crash_dir / "a.dmp").exists()
    assert (crash_dir / "rejected" / "a.dmp").exists()
    folder.scan(LATER)
    assert len(upload.calls) == 1


def test_retry_keeps_the_dump_for_the_next_scan(crash_dir: Path) -> None:
    """A passing failure keeps the file; the next scan uploads it again."""
    upload = Recorder(Outcome.RETRY, Outcome.ACCEPTED)
    folder = CrashFolder(crash_dir, upload)
    folder.scan(LATER)
    assert (crash_dir / "a.dmp").exists()
    folder.scan(LATER)
    assert len(upload.calls) == 2
    assert not (crash_dir / "a.dmp").exists()


def test_pending_upload_is_not_started_twice(crash_dir: Path) -> None:
    """While an upload is in flight, scans skip it; its outcome arrives through settle()."""
    upload = Recorder(Outcome.PENDING)
    folder = CrashFolder(crash_dir, upload)
    folder.scan(LATER)
    folder.scan(LATER)
    assert len(upload.calls) == 1
    assert folder.in_flight() == [str(crash_dir / "a.dmp")]
    assert (crash_dir / "a.dmp").exists()  # not deleted before the server said yes
    folder.settle(str(crash_dir / "a.dmp"), Outcome.ACCEPTED)
    assert folder.in_flight() == []
    assert not (crash_dir / "a.dmp").exists()


def test_settle_of_unknown_path_is_ignored(crash_dir: Path) -> None:
    """An outcome for a path not in flight changes nothing."""
    folder = CrashFolder(crash_dir, Recorder())
    folder.settle(str(crash_dir / "a.dmp"), Outcome.ACCEPTED)
    assert (crash_dir / "a.dmp").exists()


def test_invalid_local_dump_is_moved_aside(crash_dir: Path) -> None:
    """A file that fails local validation (MinidumpError) is moved aside without a request."""
    (crash_dir / "bad.dmp").write_bytes(b"not a minidump")

    def upload(path: str) -> Outcome:
        open_dump(path)
        return Outcome.ACCEPTED

    folder = CrashFolder(crash_dir, upload)
    folder.scan(LATER)
    assert (crash_dir / "rejected" / "bad.dmp").exists()
    assert not (crash_dir / "a.dmp").exists()


def test_crashing_upload_is_retried_later(
    crash_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected error in upload is logged and the dump kept."""

    def upload(path: str) -> Outcome:
        raise RuntimeError("boom")

    CrashFolder(crash_dir, upload).scan(LATER)
    assert (crash_dir / "a.dmp").exists()
    assert "boom" in caplog.text


def test_young_files_wait(crash_dir: Path) -> None:
    """A dump modified less than min_age ago may still be written and is left for later."""
    upload = Recorder()
    folder = CrashFolder(crash_dir, upload, min_age=5.0)
    mtime = (crash_dir / "a.dmp").stat().st_mtime
    assert folder.scan(mtime + 1.0) == []
    assert folder.scan(mtime + 6.0) == [str(crash_dir / "a.dmp")]


def test_only_matching_files_are_considered(crash_dir: Path) -> None:
    """Other files and subfolders in the crash folder are left alone."""
    (crash_dir / "notes.txt").write_text("x")
    (crash_dir / "sub.dmp").mkdir()
    upload = Recorder()
    CrashFolder(crash_dir, upload).scan(LATER)
    assert upload.calls == [str(crash_dir / "a.dmp")]
    assert (crash_dir / "notes.txt").exists()


def test_oldest_dump_goes_first(crash_dir: Path) -> None:
    """Dumps are uploaded in the order they were written."""
    newer = crash_dir / "0-newer.dmp"
    shutil.copy(crash_dir / "a.dmp", newer)
    os.utime(crash_dir / "a.dmp", (1000, 1000))
    upload = Recorder()
    CrashFolder(crash_dir, upload).scan(LATER)
    assert upload.calls == [str(crash_dir / "a.dmp"), str(newer)]


def test_rejected_name_clash_keeps_both(crash_dir: Path) -> None:
    """A second rejected dump of the same name does not overwrite the first."""
    (crash_dir / "rejected").mkdir()
    (crash_dir / "rejected" / "a.dmp").write_bytes(b"old")
    CrashFolder(crash_dir, Recorder(Outcome.REJECTED)).scan(LATER)
    assert (crash_dir / "rejected" / "a.dmp").read_bytes() == b"old"
    assert (crash_dir / "rejected" / "a.dmp.1").exists()


def test_undeletable_dump_is_not_sent_twice(crash_dir: Path) -> None:
    """If an accepted dump cannot be deleted it is remembered, unless a new file takes its name."""

    class Stubborn(CrashFolder):
        def _delete(self, path: str) -> None:
            raise PermissionError(13, "Permission denied", path)

    upload = Recorder()
    folder = Stubborn(crash_dir, upload)
    folder.scan(LATER)
    folder.scan(LATER)
    assert len(upload.calls) == 1
    os.utime(
        crash_dir / "a.dmp", ns=(0, 123_000_000_000)
    )  # a new crash written under the same name
    folder.scan(LATER)
    assert len(upload.calls) == 2


def test_missing_folder_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A crash folder that does not exist (yet) is a warning, not an error."""
    assert CrashFolder(tmp_path / "nope", Recorder()).scan(LATER) == []
    assert "cannot list" in caplog.text


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.ACCEPTED),
        (201, Outcome.ACCEPTED),
        (400, Outcome.REJECTED),
        (413, Outcome.REJECTED),
        (401, Outcome.RETRY),
        (403, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (None, Outcome.RETRY),
    ],
)
def test_outcome_for_status(status: int | None, outcome: Outcome) -> None:
    """Only a 2xx deletes and only an 'invalid' 4xx moves aside; everything else retries."""
    assert outcome_for_status(status) is outcome


def test_integration_scans_at_start_up(crash_dir: Path) -> None:
    """The integration's thread uploads what is in the folder as soon as it is set up."""
    integration = MinidumpFolderIntegration(crash_dir, interval=30.0, min_age=0.0)
    assert isinstance(integration, Integration)
    assert integration.identifier == "minidump_folder"
    uploaded = threading.Event()

    def upload(path: str) -> Outcome:
        uploaded.set()
        return Outcome.ACCEPTED

    integration.connect(upload)
    integration.setup_once()
    first = integration._thread
    integration.setup_once()  # a second init() does not start a second thread
    try:
        assert integration._thread is first
        assert uploaded.wait(timeout=10.0)
        deadline = time.monotonic() + 10.0
        while (crash_dir / "a.dmp").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not (crash_dir / "a.dmp").exists()
    finally:
        integration.close(timeout=5.0)
    assert first is not None and not first.is_alive()


def test_unconnected_integration_keeps_the_dumps(crash_dir: Path) -> None:
    """Before the client connects an upload function, scans keep every dump."""
    integration = MinidumpFolderIntegration(crash_dir, min_age=0.0)
    assert integration.folder.scan(LATER) == [str(crash_dir / "a.dmp")]
    assert (crash_dir / "a.dmp").exists()


def test_interval_must_be_positive(tmp_path: Path) -> None:
    """A zero interval is a configuration error, raised at construction."""
    with pytest.raises(ValueError, match="interval"):
        MinidumpFolderIntegration(tmp_path, interval=0)
