"""``tripwire --help``, usage errors, ``--version``, and the ``python -m``/console-script entry."""

from __future__ import annotations

import pytest
from cli_support import SECRET, Runner, assert_no_secret

import tripwire
from tripwire.cli import main


def test_help_lists_commands_and_exit_codes(run_cli: Runner) -> None:
    """--help names the three commands, SENTRY_DSN, and every exit code with its meaning."""
    proc = run_cli("--help")
    assert proc.returncode == 0
    for expected in (
        "send-event",
        "upload-minidump",
        "check",
        "SENTRY_DSN",
        "3    no DSN",
        "4    server unreachable",
        "5    the server refused",
        "6    bad file",
    ):
        assert expected in proc.stdout


@pytest.mark.parametrize("command", ["send-event", "upload-minidump", "check"])
def test_each_command_has_help(run_cli: Runner, command: str) -> None:
    """Each command's --help shows its options and the exit codes."""
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    assert "--dsn" in proc.stdout
    assert "--debug" in proc.stdout
    assert "exit status:" in proc.stdout


def test_missing_command_is_a_usage_error(run_cli: Runner) -> None:
    """Without a command the exit status is 2 and the usage is printed."""
    proc = run_cli()
    assert proc.returncode == 2
    assert "usage: tripwire" in proc.stderr


def test_send_event_requires_a_message(run_cli: Runner) -> None:
    """send-event without -m is a usage error (exit 2)."""
    proc = run_cli("send-event", "--dsn", "http://k@127.0.0.1:1/1")
    assert proc.returncode == 2
    assert "-m/--message" in proc.stderr


def test_usage_errors_hide_a_dsn_secret(run_cli: Runner) -> None:
    """A DSN passed where argparse does not expect it is echoed with its secret masked."""
    proc = run_cli("check", f"https://public:{SECRET}@example.invalid/1")
    assert proc.returncode == 2
    assert "https://public:***@example.invalid/1" in proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)


def test_version(run_cli: Runner) -> None:
    """--version prints the package version."""
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"tripwire {tripwire.__version__}"


def test_main_returns_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    """main() returns argparse's status instead of raising SystemExit (console scripts exit with it)."""
    assert main(["--version"]) == 0
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_docs_list_every_exit_code() -> None:
    """docs/cli.md's exit-status table has one row per exit code the command line uses."""
    from pathlib import Path

    from tripwire._cli_common import EXIT_CODES

    docs = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    rows = {
        int(line.split("|")[1])
        for line in docs.splitlines()
        if line.startswith("| ") and line.split("|")[1].strip().isdigit()
    }
    assert rows == {code for code, _meaning in EXIT_CODES}


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_timeout_must_be_a_positive_finite_number(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--timeout refuses zero, negative, nan and infinite values with a usage error."""
    assert main(["check", "--dsn", "http://k@127.0.0.1:1/1", "--timeout", value]) == 2
    assert "--timeout" in capsys.readouterr().err
