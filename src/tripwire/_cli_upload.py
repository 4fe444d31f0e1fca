"""``tripwire upload-minidump``: validate and upload dumps one by one, printing each id.

A bad file is reported and skipped, the others still go. On a terminal, a file
of :data:`PROGRESS_MIN_BYTES` or more gets a status line that counts the
seconds while it uploads.
"""

from __future__ import annotations

import argparse
import time
from typing import TextIO

from ._cli_common import (
    BAD_FILE,
    EXIT_STATUS_HELP,
    OK,
    CliParser,
    Results,
    SubParsers,
    build_cli_options,
    human_size,
    parse_pairs,
    resolve_dsn,
    say,
    sending_options,
    verdict,
)
from ._client import Client
from ._hub import Hub
from ._minidump import open_dump
from ._protocol import Event
from .errors import MinidumpError

PROGRESS_MIN_BYTES = 1024 * 1024
PROGRESS_INTERVAL = 0.25


class _Progress:
    """A self-rewriting status line on a terminal; silent elsewhere."""

    def __init__(self, stream: TextIO, label: str, enabled: bool) -> None:
        self._stream = stream
        self._label = label
        self._enabled = enabled
        self._start = time.monotonic()
        self._width = 0

    def _write(self, text: str, end: str = "") -> None:
        if not self._enabled:
            return
        padding = " " * max(0, self._width - len(text))
        self._width = len(text)
        self._stream.write("\r" + text + padding + end)
        self._stream.flush()

    def tick(self) -> None:
        self._write(f"{self._label}: uploading... {time.monotonic() - self._start:.0f}s")

    def finish(self, word: str) -> None:
        self._write(f"{self._label}: {word} in {time.monotonic() - self._start:.1f}s", "\n")


def _wait(client: Client, timeout: float, progress: _Progress) -> int:
    """Flush in short steps so the status line moves; return how many items are pending."""
    deadline = time.monotonic() + timeout
    while True:
        progress.tick()
        step = min(PROGRESS_INTERVAL, max(0.0, deadline - time.monotonic()))
        flushed = client.flush(step)
        pending = flushed.pending if flushed is not None else 0
        if not pending or time.monotonic() >= deadline:
            return pending


def run_upload_minidump(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    dsn = resolve_dsn(args.dsn)
    tags = parse_pairs(args.tag, "--tag")
    fields = parse_pairs(args.field, "--field")
    results = Results()
    options = build_cli_options(
        dsn,
        debug=args.debug,
        after_send=results,
        **sending_options(args),
    )
    event: Event = {"tags": tags} if tags else {}
    on_terminal = err.isatty()
    failures: list[int] = []
    client = Client(options)
    results.attach()
    try:
        hub = Hub(client)
        for path in args.files:
            try:
                with open_dump(path) as source:
                    size = source.size
                event_id = client.capture_minidump(
                    path, event=dict(event), fields=fields, scope=hub.scope
                )
            except MinidumpError as exc:
                say(err, f"tripwire: error: {exc}")
                failures.append(BAD_FILE)
                continue
            results.last_warning = None
            label = f"{path} ({human_size(size)})"
            progress = _Progress(err, label, on_terminal and size >= PROGRESS_MIN_BYTES)
            pending = _wait(client, args.timeout, progress) if event_id is not None else 0
            result = results.get(event_id) if event_id is not None else None
            code, sentence = verdict(result, pending, dsn.netloc, results.last_warning)
            if code != OK:
                progress.finish("failed")
                say(err, f"tripwire: error: {path} not uploaded: {sentence}")
                failures.append(code)
                continue
            progress.finish("done")
            assert result is not None
            say(out, f"{result.server_event_id or result.event_id}  {path}")
    finally:
        client.close(timeout=1.0)
        results.detach()
    return failures[0] if failures else OK


def add_upload_minidump_parser(
    sub: SubParsers[CliParser],
    parents: list[CliParser],
) -> None:
    parser = sub.add_parser(
        "upload-minidump",
        parents=parents,
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="upload minidumps and print each event id",
        description=(
            "Validate and upload each minidump to the DSN's /minidump/ endpoint, one after "
            "the other, and print '<event id>  <file>' for each one the server accepted. "
            "A bad file is reported on stderr and skipped; the exit status is that of the "
            "first failure."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="minidump files (.dmp)")
    parser.add_argument("-r", "--release", help="release (default: SENTRY_RELEASE, or detected)")
    parser.add_argument("-E", "--environment", help="environment (default: SENTRY_ENVIRONMENT)")
    parser.add_argument("-d", "--dist", help="distribution (build) of the release")
    parser.add_argument(
        "-t", "--tag", action="append", metavar="KEY=VALUE", help="a tag; repeat for more"
    )
    parser.add_argument(
        "-f",
        "--field",
        action="append",
        metavar="KEY=VALUE",
        help="a form field sent with each dump (shown as extra data); repeat for more",
    )
    parser.set_defaults(run=run_upload_minidump)
