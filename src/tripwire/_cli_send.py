"""``tripwire send-event``: one message event, waited for, its id printed.

``--logfile`` turns the last lines of a log into breadcrumbs, each with the
level and time read from the line when it has them.
"""

from __future__ import annotations

import argparse
import os
import re
from datetime import datetime
from typing import Optional, TextIO

from ._cli_common import (
    BAD_FILE,
    EXIT_STATUS_HELP,
    OK,
    CliError,
    CliParser,
    Results,
    SubParsers,
    build_cli_options,
    parse_pairs,
    resolve_dsn,
    say,
    sending_options,
    verdict,
)
from ._client import Client
from ._hub import Hub
from ._protocol import Breadcrumb

DEFAULT_LOG_LINES = 100
MAX_TAIL_BYTES = 1024 * 1024
"""Bytes read from the end of a log at most: a log of one huge line must not fill memory."""
MAX_LINE_CHARS = 8192

_LEVEL_WORD = re.compile(r"\b(DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL|PANIC)\b")
_LEVELS = {
    "DEBUG": "debug",
    "INFO": "info",
    "NOTICE": "info",
    "WARN": "warning",
    "WARNING": "warning",
    "ERROR": "error",
    "CRITICAL": "fatal",
    "FATAL": "fatal",
    "PANIC": "fatal",
}
# An ISO-like timestamp at the start of a line, optionally bracketed.
_TIMESTAMP = re.compile(
    r"^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:[.,](\d{1,6})\d*)?"
    r"\s?(Z|[+-]\d{2}:?\d{2})?"
)


def tail_lines(path: str, count: int) -> list[str]:
    """The last ``count`` non-empty lines of ``path``; :class:`CliError` (exit 6) if unreadable."""
    if count <= 0:
        return []
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            start = max(0, end - MAX_TAIL_BYTES)
            data = b""
            # Read backwards in blocks until enough newlines are in hand.
            pos = end
            while pos > start and data.count(b"\n") <= count:
                step = min(64 * 1024, pos - start)
                pos -= step
                f.seek(pos)
                data = f.read(step) + data
    except OSError as exc:
        raise CliError(f"cannot read log file {path!r}: {exc.strerror or exc}", BAD_FILE) from None
    lines = data.decode("utf-8", "replace").splitlines()
    if pos > 0 and lines:
        lines = lines[1:]  # the first one is probably cut
    return [line[:MAX_LINE_CHARS] for line in lines if line.strip()][-count:]


def _timestamp(line: str) -> Optional[float]:
    match = _TIMESTAMP.match(line)
    if match is None:
        return None
    text = match.group(1).replace(" ", "T")
    if match.group(2):
        text += "." + match.group(2).ljust(6, "0")
    zone = match.group(3)
    if zone:
        zone = "+00:00" if zone == "Z" else zone
        text += zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        # A line without a zone is taken as local time, as the log's writer wrote it.
        return datetime.fromisoformat(text).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def log_breadcrumbs(lines: list[str], source: str) -> list[Breadcrumb]:
    """One ``log`` breadcrumb per line, with the level and time found in it."""
    crumbs: list[Breadcrumb] = []
    for line in lines:
        crumb: Breadcrumb = {"category": "log", "message": line, "data": {"file": source}}
        level = _LEVEL_WORD.search(line)
        if level is not None:
            crumb["level"] = _LEVELS[level.group(1)]
        when = _timestamp(line)
        if when is not None:
            crumb["timestamp"] = when
        crumbs.append(crumb)
    return crumbs


def run_send_event(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    dsn = resolve_dsn(args.dsn)
    tags = parse_pairs(args.tag, "--tag")
    extra = parse_pairs(args.extra, "--extra")
    crumbs: list[Breadcrumb] = []
    if args.logfile:
        lines = tail_lines(args.logfile, args.logfile_lines)
        crumbs = log_breadcrumbs(lines, os.path.basename(args.logfile))
    results = Results()
    options = build_cli_options(
        dsn,
        debug=args.debug,
        after_send=results,
        **sending_options(args),
        max_breadcrumbs=max(len(crumbs), 100),
    )
    client = Client(options)
    results.attach()
    try:
        hub = Hub(client)
        scope = hub.scope
        scope.set_max_breadcrumbs(options.max_breadcrumbs)
        scope.set_tags(tags)
        for key, value in extra.items():
            scope.set_extra(key, value)
        if args.user_id:
            scope.set_user({"id": args.user_id})
        for crumb in crumbs:
            hub.add_breadcrumb(crumb)
        event_id = hub.capture_message(args.message, args.level)
        flushed = client.flush(args.timeout)
        pending = flushed.pending if flushed is not None else 0
        result = results.get(event_id) if event_id is not None else None
    finally:
        client.close(timeout=1.0)
        results.detach()
    code, sentence = verdict(result, pending, dsn.netloc, results.last_warning)
    if code != OK:
        raise CliError(f"event {event_id or '(none)'} not sent: {sentence}", code)
    assert result is not None
    say(out, result.server_event_id or result.event_id or "")
    return OK


def add_send_event_parser(sub: SubParsers[CliParser], parents: list[CliParser]) -> None:
    parser = sub.add_parser(
        "send-event",
        parents=parents,
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="send one message event and print its id",
        description=(
            "Send one message event, wait until the server has answered, and print the "
            "event id (the server's, when it assigns its own). Exit status 0 only when "
            "the server accepted it."
        ),
    )
    parser.add_argument("-m", "--message", required=True, help="the event's message")
    parser.add_argument(
        "-l",
        "--level",
        default="error",
        choices=("debug", "info", "warning", "error", "fatal"),
        help="the event's level (default: error)",
    )
    parser.add_argument(
        "-t",
        "--tag",
        action="append",
        metavar="KEY=VALUE",
        help="a tag; repeat for more (KEY:VALUE also accepted)",
    )
    parser.add_argument(
        "-e",
        "--extra",
        action="append",
        metavar="KEY=VALUE",
        help="extra data; repeat for more (KEY:VALUE also accepted)",
    )
    parser.add_argument("-r", "--release", help="release (default: SENTRY_RELEASE, or detected)")
    parser.add_argument("-E", "--environment", help="environment (default: SENTRY_ENVIRONMENT)")
    parser.add_argument("-d", "--dist", help="distribution (build) of the release")
    parser.add_argument("-u", "--user-id", help="the id of the user the event concerns")
    parser.add_argument(
        "--logfile", metavar="FILE", help="attach the last lines of this log as breadcrumbs"
    )
    parser.add_argument(
        "--logfile-lines",
        type=int,
        default=DEFAULT_LOG_LINES,
        metavar="N",
        help=f"how many lines of --logfile to attach (default: {DEFAULT_LOG_LINES})",
    )
    parser.set_defaults(run=run_send_event)
