"""The command line: ``sys.argv`` in each event's ``extra``."""

from __future__ import annotations

import sys
from typing import ClassVar

from .._protocol import Event, Hint
from .._scope import add_global_event_processor
from . import Integration
from ._active import client_for


class ArgvIntegration(Integration):
    """Add ``sys.argv`` to each event's ``extra`` under the key ``sys.argv``."""

    identifier: ClassVar[str] = "argv"

    def setup_once(self) -> None:
        add_global_event_processor(_add_argv)


def _add_argv(event: Event, hint: Hint) -> Event:
    if client_for(ArgvIntegration.identifier) is None:
        return event
    extra = event.setdefault("extra", {})
    if isinstance(extra, dict) and "sys.argv" not in extra:
        # A copy: the program may change sys.argv after the capture.
        extra["sys.argv"] = list(sys.argv)
    return event
