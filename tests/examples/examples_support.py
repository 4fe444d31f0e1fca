"""Helpers for the example tests: run an example, and a loopback receiver that decodes what it got."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO

from pytest_httpserver import HTTPServer
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tripwire._envelope import Envelope

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SRC = ROOT / "src"
# The repository's checkout sits beside shared/ (in development and in CI).
FIXTURE_DUMP = ROOT.parent / "shared" / "fixtures" / "minidumps" / "crash_linux.dmp"
# The id the receiver answers minidump uploads with, as Sentry does: {"id": ...}.
SERVER_EVENT_ID = "5e1f0a2b3c4d4e5f8a9b0c1d2e3f4a5b"


@dataclass
class Upload:
    """One /minidump/ request as a server decodes it: form fields and the dump's bytes."""

    fields: dict[str, str]
    filename: str | None
    dump: bytes

    def sentry(self) -> dict[str, object]:
        """The event attributes sent as the ``sentry`` JSON field."""
        value = json.loads(self.fields["sentry"])
        assert isinstance(value, dict)
        return value


class Receiver:
    """A loopback Sentry stand-in: answers envelopes and minidump uploads, decodes both."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        server.expect_request("/api/1/envelope/", method="POST").respond_with_json({})
        server.expect_request("/api/1/minidump/", method="POST").respond_with_json(
            {"id": SERVER_EVENT_ID}
        )
        self.dsn = f"http://key@127.0.0.1:{server.port}/1"

    def _bodies(self, path: str) -> Iterator[tuple[Request, bytes]]:
        for request, _response in self.server.log:
            if request.path != path:
                continue
            body = request.get_data()
            if request.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            yield request, body

    def events(self) -> list[dict[str, object]]:
        """The events of the envelopes received, in order."""
        events = []
        for _request, body in self._bodies("/api/1/envelope/"):
            event = Envelope.parse(body).event()
            if event is not None:
                events.append(event)
        return events

    def uploads(self) -> list[Upload]:
        """The minidump uploads received, in order, parsed with werkzeug's form parser."""
        uploads = []
        for request, body in self._bodies("/api/1/minidump/"):
            environ = EnvironBuilder(
                method="POST",
                input_stream=io.BytesIO(body),
                content_type=request.headers["Content-Type"],
                content_length=len(body),
            ).get_environ()
            form = Request(environ)
            try:
                dump = form.files["upload_file_minidump"]
                uploads.append(Upload(dict(form.form), dump.filename, dump.read()))
            finally:
                form.close()
        return uploads


def _example_env(dsn: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "SENTRY_DSN": dsn, "PYTHONUNBUFFERED": "1"}
    for name in ("SENTRY_DEBUG", "SENTRY_RELEASE", "SENTRY_ENVIRONMENT"):
        env.pop(name, None)
    return env


def run_example(
    name: str, *args: str, dsn: str, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run ``examples/<name>`` in a fresh interpreter with SENTRY_DSN set; never hangs the suite."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=ROOT,
        env=_example_env(dsn),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_clean_run(result: subprocess.CompletedProcess[str]) -> None:
    """The example exited 0 and tripwire logged no internal error."""
    assert result.returncode == 0, result.stderr
    assert "internal error" not in result.stderr, result.stderr


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` under a name no other test module uses."""
    module_name = f"tripwire_example_{name}"
    loaded = sys.modules.get(module_name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def start_example(name: str, *args: str, dsn: str) -> subprocess.Popen[str]:
    """Start ``examples/<name>`` with SENTRY_DSN set, stdout and stderr merged into one pipe."""
    return subprocess.Popen(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=ROOT,
        env=_example_env(dsn),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_output(process: subprocess.Popen[str], pattern: str, timeout: float) -> re.Match[str]:
    """Read the process's output until a line matches ``pattern``; fail after ``timeout`` seconds."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def pump(stream: IO[str]) -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, args=(process.stdout,), daemon=True).start()
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no line matched {pattern!r} within {timeout}s: {seen}"
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        seen.append(line)
        match = re.search(pattern, line)
        if match is not None:
            return match


def stop(process: subprocess.Popen[str]) -> None:
    """Make sure a started example is gone."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
