"""Fixtures for the end-to-end tests: one real Bugsink server per test session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Importable whatever pytest's import mode and whether tests/ is a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bugsink_server import BugsinkServer, ensure_installed  # noqa: E402

# Building Bugsink's virtualenv the first time takes a minute or more on a busy
# machine; only the first e2e test pays for it, so only it gets the long limit.
_FIRST_TEST_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.timeout(_FIRST_TEST_TIMEOUT), append=False)
            break


@pytest.fixture(scope="session")
def bugsink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BugsinkServer]:
    """A running Bugsink with a fresh project, shared by the whole session."""
    install = ensure_installed()
    server = BugsinkServer(tmp_path_factory.mktemp("bugsink"), install)
    server.start()
    try:
        yield server
    finally:
        server.stop()
