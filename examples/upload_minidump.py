"""Upload a minidump, the crash report a native component writes, with tripwire.

It uploads the file named on the command line (by default the fixture
``crash_linux.dmp`` from ``shared/fixtures/minidumps/`` beside the repository)
with a form field and extra event attributes, prints the event id tripwire
chose, waits for the upload, and prints the id the server gave the event
(servers such as Bugsink assign their own).

The DSN comes from the SENTRY_DSN environment variable.

    SENTRY_DSN=http://<key>@127.0.0.1:8000/1 python examples/upload_minidump.py [DUMP]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tripwire

# The repository's checkout sits beside shared/, which holds the fixture dumps.
DEFAULT_DUMP = (
    Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "minidumps" / "crash_linux.dmp"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Upload one minidump to the SENTRY_DSN server.")
    parser.add_argument("dump", nargs="?", type=Path, default=DEFAULT_DUMP, help="a .dmp file")
    args = parser.parse_args(argv)

    tripwire.init(release="upload-minidump-example@1.0.0")
    tripwire.set_tag("component", "physics-engine")

    event_id = tripwire.capture_minidump(
        args.dump,
        fields={"build_flavor": "release"},  # a plain form field, shown as extra data
        event={"tags": {"uploaded_by": "upload_minidump.py"}, "level": "fatal"},
    )
    if event_id is None:
        # Refused before sending (not a minidump, too large, unreadable): see the log.
        print(f"{args.dump} was not uploaded", file=sys.stderr)
        return 1
    print(f"uploading {args.dump.name} as event {event_id}")

    result = tripwire.flush(10.0)
    if not result or result.sent == 0:
        print(f"the upload did not complete: {result}", file=sys.stderr)
        return 1
    # After the flush, last_event_id() is the id the server answered with.
    print(f"server event id: {tripwire.last_event_id()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
