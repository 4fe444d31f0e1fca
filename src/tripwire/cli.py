"""The ``tripwire`` command line: ``send-event``, ``upload-minidump`` and ``check``.

Installed as the ``tripwire`` console script and runnable as ``python -m tripwire``.
Each command lives in its own ``_cli_*`` module; this one builds the parser and
turns every failure into a message on stderr and a distinct exit code.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, TextIO

from . import _cli_common
from ._cli_check import add_check_parser
from ._cli_common import (
    EXIT_STATUS_HELP,
    INTERNAL_ERROR,
    INTERRUPTED,
    USAGE,
    CliError,
    CliParser,
    redact,
)
from ._cli_send import add_send_event_parser
from ._cli_upload import add_upload_minidump_parser
from ._version import VERSION

__all__ = ["main"]

MAX_TIMEOUT = 24 * 3600.0

_EPILOG = (
    "The DSN comes from --dsn or the SENTRY_DSN environment variable; SENTRY_RELEASE,\n"
    "SENTRY_ENVIRONMENT and SENTRY_DEBUG are honoured too. Prefer SENTRY_DSN to --dsn\n"
    "when the DSN holds a secret key: other users can read a command line.\n\n" + EXIT_STATUS_HELP
)


def _common_options() -> CliParser:
    common = CliParser(add_help=False)
    common.add_argument(
        "--dsn", help="where to send (default: the SENTRY_DSN environment variable)"
    )
    common.add_argument(
        "--timeout",
        type=float,
        default=_cli_common.DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for the server (default: {_cli_common.DEFAULT_TIMEOUT:g})",
    )
    common.add_argument(
        "--ca-certs", metavar="FILE", help="CA bundle to verify the server (default: certifi's)"
    )
    # SUPPRESS: `tripwire --debug CMD` and `tripwire CMD --debug` both work.
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the SDK's log on stderr",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full parser, subcommands included."""
    parser = CliParser(
        prog="tripwire",
        description="Send events and minidumps to a Sentry-compatible server, and check a DSN.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tripwire {VERSION}")
    parser.add_argument("--debug", action="store_true", help="print the SDK's log on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    sub.required = True
    parents = [_common_options()]
    add_send_event_parser(sub, parents)
    add_upload_minidump_parser(sub, parents)
    add_check_parser(sub, parents)
    return parser


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    """Parse ``argv`` and run the command; every failure becomes an exit code."""
    args = build_parser().parse_args(argv)
    if not 0 < args.timeout <= MAX_TIMEOUT:  # also refuses nan and inf
        err.write(f"tripwire: error: --timeout must be from 0 to {MAX_TIMEOUT:g} seconds\n")
        return USAGE
    try:
        code: int = args.run(args, out, err)
        return code
    except CliError as exc:
        out.flush()
        err.write(f"tripwire: error: {redact(str(exc))}\n")
        return exc.code
    except KeyboardInterrupt:
        err.write("tripwire: interrupted\n")
        return INTERRUPTED
    except Exception as exc:
        # A bug of ours: say so plainly, with the traceback only under --debug.
        if args.debug:
            import traceback

            traceback.print_exc(file=err)
        err.write(f"tripwire: internal error: {redact(f'{type(exc).__name__}: {exc}')}\n")
        return INTERNAL_ERROR


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``tripwire`` console script; returns the exit status."""
    try:
        return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
    except SystemExit as exc:
        # argparse exits for --help, --version and usage errors: report its code.
        return exc.code if isinstance(exc.code, int) else USAGE
