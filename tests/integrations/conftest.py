"""Fixtures for integration tests: an initialised SDK recording events, and subprocess runs."""

from __future__ import annotations

import gzip
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from pytest_httpserver import HTTPServer

import tripwire
from tripwire._envelope import Envelope
from tripwire.testing import CapturingTransport

SRC = str(Path(__file__).resolve().parents[2] / "src")


class _Faults(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.expected = False

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _no_sdk_faults() -> Iterator[_Faults]:
    """Fail a test whose integration code logged an internal error on the tripwire logger."""
    faults = _Faults()
    sdk_logger = logging.getLogger("tripwire")
    sdk_logger.addHandler(faults)
    try:
        yield faults
    finally:
        sdk_logger.removeHandler(faults)
    if not faults.expected:
        assert [r.getMessage() for r in faults.records] == []


@pytest.fixture
def expect_sdk_faults(_no_sdk_faults: _Faults) -> None:
    """For a test that provokes an SDK fault on purpose: allow errors on the tripwire logger."""
    _no_sdk_faults.expected = True


@pytest.fixture
def init_sdk() -> Callable[..., CapturingTransport]:
    """``init_sdk(**options)`` initialises tripwire with a recording transport."""

    def init(**options: Any) -> CapturingTransport:
        transport = CapturingTransport()
        tripwire.init(transport=transport, **options)
        return transport

    return init


def _run_script(
    script: str, dsn: str, *, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter with ``DSN`` set to ``dsn``; never hangs the suite."""
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-c", f"DSN = {dsn!r}\n" + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": path, "SENTRY_DSN": "", "SENTRY_DEBUG": ""},
    )


def _received_events(httpserver: HTTPServer) -> list[dict[str, object]]:
    """The events in the envelopes the loopback server received, in order."""
    events = []
    for request, _ in httpserver.log:
        body = request.get_data()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        event = Envelope.parse(body).event()
        if event is not None:
            events.append(event)
    return events


@pytest.fixture
def sentry_server(httpserver: HTTPServer) -> tuple[HTTPServer, str]:
    """A loopback server answering envelopes with 200, and the DSN that points at it."""
    httpserver.expect_request("/api/1/envelope/", method="POST").respond_with_json({})
    return httpserver, f"http://key@127.0.0.1:{httpserver.port}/1"


@pytest.fixture
def run_script() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_script(script, dsn)``: run ``script`` in a fresh interpreter with ``DSN`` defined."""
    return _run_script


@pytest.fixture
def received_events() -> Callable[[HTTPServer], list[dict[str, Any]]]:
    """``received_events(server)``: the events a loopback server received, in order."""
    return _received_events
