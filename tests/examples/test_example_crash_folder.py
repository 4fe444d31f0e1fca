"""The crash folder example: a child dies of a signal, the integration uploads the dump it left."""

from __future__ import annotations

import os
from pathlib import Path

from examples_support import FIXTURE_DUMP, Receiver, assert_clean_run, run_example


def test_crash_folder_uploads_the_childs_dump_and_empties_the_folder(
    receiver: Receiver, tmp_path: Path
) -> None:
    """crash_folder.py uploads the dump its crashed child wrote, byte for byte, and deletes it."""
    folder = tmp_path / "crashes"
    result = run_example("crash_folder.py", "--folder", str(folder), dsn=receiver.dsn, timeout=40)
    assert_clean_run(result)

    if os.name == "posix":
        assert "child died of SIGSEGV" in result.stdout
    assert "the dump was uploaded and deleted" in result.stdout
    assert list(folder.iterdir()) == []  # deleted, nothing moved into rejected/

    (upload,) = receiver.uploads()
    assert upload.dump == FIXTURE_DUMP.read_bytes()
    assert upload.filename is not None and upload.filename.endswith(".dmp")
    event = upload.sentry()
    assert event["tags"] == {"component": "native-worker"}
    assert event["release"] == "crash-folder-example@1.0.0"
    assert event["platform"] == "native"
