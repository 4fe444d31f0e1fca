"""What every ``tripwire`` command shares: exit codes, the DSN, ``k=v`` pairs, the SDK session.

Commands raise :class:`CliError` for anything the user can fix; ``cli.main``
prints its message on stderr and exits with its code. No message here ever
holds a DSN's secret key: :func:`redact` runs over anything that echoes input.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Optional, TextIO

from ._dsn import Dsn
from ._log import logger, set_debug
from ._options import Options, build_options
from .errors import BadDsn

if TYPE_CHECKING:
    from ._transport_results import SendResult

# Exit codes: distinct per cause so that shell scripts can branch on them.
OK = 0
INTERNAL_ERROR = 1
USAGE = 2
BAD_DSN = 3
UNREACHABLE = 4
REJECTED = 5
BAD_FILE = 6
INTERRUPTED = 130

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (OK, "success: the server accepted everything"),
    (INTERNAL_ERROR, "unexpected internal error"),
    (USAGE, "usage error: unknown option, missing or malformed argument"),
    (BAD_DSN, "no DSN (--dsn or SENTRY_DSN), or a DSN that does not parse"),
    (UNREACHABLE, "server unreachable: connection, DNS, TLS error or timeout"),
    (REJECTED, "the server refused the event (HTTP 4xx/5xx, 429 rate limited)"),
    (BAD_FILE, "bad file: missing, unreadable, not a minidump or too large"),
    (INTERRUPTED, "interrupted (Ctrl-C)"),
)

EXIT_STATUS_HELP = "exit status:\n" + "".join(
    f"  {code:<4} {meaning}\n" for code, meaning in EXIT_CODES
)

DEFAULT_TIMEOUT = 30.0
"""Seconds a command waits for the server before giving up."""

# The password part of any URL-like text: `scheme://user:SECRET@host`.
_URL_SECRET = re.compile(r"(://[^\s:/@]*):[^\s@/]*@")


class CliError(Exception):
    """A failure the user can fix; ``code`` is the process exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def redact(text: str) -> str:
    """``text`` with the secret of every URL-like credential replaced by ``***``."""
    return _URL_SECRET.sub(r"\1:***@", text)


def resolve_dsn(value: Optional[str], environ: Mapping[str, str] | None = None) -> Dsn:
    """The DSN from ``--dsn``, else ``SENTRY_DSN``; :class:`CliError` (exit 3) otherwise."""
    env = os.environ if environ is None else environ
    text = value if value is not None else env.get("SENTRY_DSN")
    where = "--dsn" if value is not None else "SENTRY_DSN"
    if not text or not text.strip():
        if value is None:
            raise CliError("no DSN: pass --dsn or set the SENTRY_DSN environment variable", BAD_DSN)
        raise CliError("the DSN given with --dsn is empty", BAD_DSN)
    try:
        return Dsn.parse(text)
    except BadDsn as exc:
        # BadDsn messages never contain the secret; redact anyway, it costs nothing.
        raise CliError(f"bad DSN in {where}: {redact(str(exc))}", BAD_DSN) from None


def parse_pairs(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """``KEY=VALUE`` (or sentry-cli's ``KEY:VALUE``) arguments as a dict; exit 2 when malformed."""
    pairs: dict[str, str] = {}
    for raw in values or ():
        sep = "=" if "=" in raw else ":"
        key, found, value = raw.partition(sep)
        key = key.strip()
        if not found or not key:
            raise CliError(f"{option} expects KEY=VALUE, got {redact(raw)!r}", USAGE)
        pairs[key] = value
    return pairs


def human_size(size: int) -> str:
    """``1.5 MB``, ``27.2 KB``, ``512 B``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} B"


def sending_options(args: argparse.Namespace) -> dict[str, object]:
    """The options every sending command takes from its command line."""
    return {
        "release": args.release,
        "environment": args.environment,
        "dist": args.dist,
        "ca_certs": args.ca_certs,
    }


def build_cli_options(
    dsn: Dsn,
    *,
    debug: bool,
    after_send: object = None,
    **options: object,
) -> Options:
    """Options for a one-shot command: no client reports, no integrations, debug on request.

    ``debug=False`` still lets ``SENTRY_DEBUG`` switch the SDK's log on.
    """
    kwargs: dict[str, Any] = {
        # A command reports its failures itself, through its exit code.
        "send_client_reports": False,
        "default_integrations": False,
        **{name: value for name, value in options.items() if value is not None},
    }
    if debug:
        kwargs["debug"] = True
    if after_send is not None:
        kwargs["after_send"] = after_send
    try:
        opts = build_options(dsn, **kwargs)
    except (TypeError, ValueError) as exc:
        raise CliError(redact(str(exc)), USAGE) from None
    set_debug(opts.debug)
    return opts


class CliParser(argparse.ArgumentParser):
    """argparse, with the secret of a DSN passed by mistake kept out of its errors."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {redact(message)}\n")


SubParsers = argparse._SubParsersAction  # the type add_subparsers() returns


class Results(logging.Handler):
    """What the server answered, by event id: the ``after_send`` hook of a command.

    Also a handler on the ``tripwire`` logger between :meth:`attach` and
    :meth:`detach`, keeping the last warning: the transport logs the server's
    reason for a refusal, or the cause of a network error, and nowhere else.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._by_id: dict[Optional[str], SendResult] = {}
        self.last_warning: Optional[str] = None

    def __call__(self, result: SendResult) -> None:
        with self.lock or contextlib.nullcontext():
            self._by_id[result.event_id] = result

    def get(self, event_id: str) -> SendResult | None:
        with self.lock or contextlib.nullcontext():
            return self._by_id.get(event_id)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.last_warning = redact(record.getMessage())
        except Exception:
            self.handleError(record)

    def attach(self) -> None:
        logger.addHandler(self)

    def detach(self) -> None:
        logger.removeHandler(self)


def verdict(
    result: SendResult | None, pending: int, netloc: str, reason: Optional[str] = None
) -> tuple[int, str]:
    """The exit code and a sentence for one event's fate.

    ``pending``: not answered in time; ``reason``: what the SDK logged about it.
    """
    if result is None:
        if pending:
            return UNREACHABLE, f"no answer from {netloc} within the timeout"
        return INTERNAL_ERROR, "the event was dropped before it was sent"
    status = f"HTTP {result.status}" if result.status is not None else "no status"
    if result.outcome == "sent":
        return OK, f"accepted by {netloc} ({status})"
    if result.outcome == "network_error":
        return UNREACHABLE, f"could not reach {netloc}" + (f"; {reason}" if reason else "")
    if result.outcome == "rate_limited":
        return REJECTED, f"rate limited by {netloc} ({status})"
    return REJECTED, f"refused by {netloc} ({status})" + (f"; {reason}" if reason else "")


def say(stream: TextIO, text: str) -> None:
    """Write a line and flush (progress and results must show at once, even piped)."""
    stream.write(text + "\n")
    stream.flush()
