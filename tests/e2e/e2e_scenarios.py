"""Running a tripwire scenario in a fresh interpreter against Bugsink, and picking its event apart."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Optional

from bugsink_server import BugsinkServer

SCRIPT_TIMEOUT = 60.0


def unique_release(name: str) -> str:
    """A release no other scenario uses: tests share one project and filter by it."""
    return f"e2e-{name}-{uuid.uuid4().hex[:10]}"


def run_script(
    tmp_path: Path,
    server: BugsinkServer,
    release: str,
    body: str,
    *,
    extra_env: Optional[dict[str, str]] = None,
    timeout: float = SCRIPT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run `body` in a fresh interpreter with DSN and RELEASE defined and tripwire imported."""
    script = tmp_path / "scenario.py"
    script.write_text(
        "import os\nimport tripwire\n"
        "DSN = os.environ['TRIPWIRE_E2E_DSN']\nRELEASE = os.environ['TRIPWIRE_E2E_RELEASE']\n"
        + textwrap.dedent(body)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.update(TRIPWIRE_E2E_DSN=server.dsn, TRIPWIRE_E2E_RELEASE=release, PYTHONUNBUFFERED="1")
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """Assert the scenario exited 0, showing its output if not; return its stdout."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def exceptions_of(event: dict[str, object]) -> list[dict[str, object]]:
    """The stored event's exception values, oldest first."""
    exception = event["exception"]
    assert isinstance(exception, dict)
    values = exception["values"]
    assert isinstance(values, list)
    return values


def frames_of(exception: dict[str, object]) -> list[dict[str, object]]:
    """An exception's frames, oldest first."""
    stacktrace = exception["stacktrace"]
    assert isinstance(stacktrace, dict)
    frames = stacktrace["frames"]
    assert isinstance(frames, list)
    return frames


def stored_events(
    server: BugsinkServer,
    release: str,
    result: subprocess.CompletedProcess[str],
    count: int = 1,
    timeout: float = 15.0,
) -> list[dict[str, object]]:
    """Wait for the scenario's events; on a timeout, show what the scenario printed too."""
    try:
        return server.wait_for_events(count, release=release, timeout=timeout)
    except AssertionError as error:
        raise AssertionError(
            f"{error}\nscenario exit {result.returncode}, stdout:\n{result.stdout}"
            f"\nstderr:\n{result.stderr[-3000:]}"
        ) from None
