"""Fixtures of the command-line tests: the CLI in a subprocess, an HTTPS loopback server."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cli_support import RUN_TIMEOUT, Runner, clean_env
from pytest_httpserver import HTTPServer


@pytest.fixture
def run_cli(tmp_path: Path) -> Runner:
    """Run ``python -m tripwire ARGS`` in ``tmp_path`` with a clean environment."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tripwire", *args],
            capture_output=True,
            text=True,
            env=clean_env(**(env or {})),
            cwd=tmp_path,
            timeout=RUN_TIMEOUT,
            check=False,
        )

    return run


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[HTTPServer, Path]]:
    """An HTTPS loopback server with a trustme certificate, and the path of its CA bundle."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    try:
        yield server, bundle
    finally:
        server.clear()
        if server.is_running():
            server.stop()
