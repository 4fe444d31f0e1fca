"""Fixtures for the example tests: a loopback receiver, and no SDK faults in-process."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from examples_support import Receiver
from pytest_httpserver import HTTPServer


@pytest.fixture
def receiver(httpserver: HTTPServer) -> Receiver:
    """A loopback receiver on 127.0.0.1 and the DSN pointing at it."""
    return Receiver(httpserver)


class _Faults(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def _no_sdk_faults() -> Iterator[None]:
    """Fail an in-process test whose SDK code logged an error on the tripwire logger."""
    faults = _Faults()
    sdk_logger = logging.getLogger("tripwire")
    sdk_logger.addHandler(faults)
    try:
        yield
    finally:
        sdk_logger.removeHandler(faults)
    assert faults.messages == []
