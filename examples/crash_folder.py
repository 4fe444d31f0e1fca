"""Upload the minidumps a crashing native child process leaves in a crash folder.

Native components (a game engine, a C++ worker) run with a crash handler such
as Breakpad or Crashpad, which writes a ``.dmp`` file into a folder as the
process dies. ``MinidumpFolderIntegration`` watches that folder from the Python
side and uploads each dump, deleting it once the server has accepted it.

Here the native child is a stand-in: a child Python process copies a fixture
minidump into the folder (what the crash handler would write) and then dies of
a real SIGSEGV (on Windows, a non-zero exit). The parent waits, at most 20 s,
for the integration to upload the dump, and shows the folder emptied.

The DSN comes from the SENTRY_DSN environment variable.

    SENTRY_DSN=http://<key>@127.0.0.1:8000/1 python examples/crash_folder.py [--folder DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import tripwire
from tripwire.integrations.minidump_folder import MinidumpFolderIntegration

# The repository's checkout sits beside shared/, which holds the fixture dumps.
FIXTURE_DUMP = (
    Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "minidumps" / "crash_linux.dmp"
)
UPLOAD_WAIT = 20.0


def crash_into(folder: Path, dump: Path) -> None:
    """The child: write a minidump as a crash handler would, then die of a segfault."""
    shutil.copyfile(dump, folder / f"{uuid.uuid4()}.dmp")
    if os.name == "posix":
        import resource  # POSIX only

        # No core file: the minidump is this crash's report.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.kill(os.getpid(), signal.SIGSEGV)
    sys.exit(3)  # where there are no signals to die of


def run_native_child(folder: Path, dump: Path) -> None:
    child = subprocess.run(
        [sys.executable, __file__, "--crash-into", str(folder), "--dump", str(dump)],
        timeout=30,
        check=False,
    )
    if child.returncode < 0:
        print(f"child died of {signal.Signals(-child.returncode).name}")
    else:
        print(f"child exited with status {child.returncode}")


def dumps_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.dmp"))


def watch(folder: Path, dump: Path) -> int:
    tripwire.init(
        release="crash-folder-example@1.0.0",
        # Scan every second. `min_age` leaves files younger than that alone, in
        # case the crash handler is still writing them; the default is 2 s.
        integrations=[MinidumpFolderIntegration(folder, interval=1.0, min_age=0.5)],
    )
    tripwire.set_tag("component", "native-worker")

    run_native_child(folder, dump)
    print(f"crash folder holds: {dumps_in(folder)}")
    if not tripwire.is_initialized():
        print("SENTRY_DSN is not set: tripwire is disabled and uploads nothing")
        return 0

    deadline = time.monotonic() + UPLOAD_WAIT
    while dumps_in(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    tripwire.flush(5.0)

    left = dumps_in(folder)
    print(f"crash folder holds: {left}")
    if left:
        print(f"the dump was not uploaded within {UPLOAD_WAIT:.0f}s", file=sys.stderr)
        return 1
    print("the dump was uploaded and deleted")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Upload a crashing child's minidump.")
    parser.add_argument("--folder", type=Path, help="the crash folder (default: a temporary one)")
    parser.add_argument("--dump", type=Path, default=FIXTURE_DUMP, help="the dump the child writes")
    parser.add_argument("--crash-into", type=Path, help=argparse.SUPPRESS)  # the child's role
    args = parser.parse_args(argv)

    if args.crash_into is not None:
        crash_into(args.crash_into, args.dump)
    if args.folder is not None:
        args.folder.mkdir(parents=True, exist_ok=True)
        return watch(args.folder, args.dump)
    with tempfile.TemporaryDirectory(prefix="crash-folder-") as folder:
        return watch(Path(folder), args.dump)


if __name__ == "__main__":
    sys.exit(main())
