"""tripwire: report errors, crashes and minidumps to Sentry-compatible servers."""

from __future__ import annotations

from ._dsn import Dsn
from ._version import VERSION as __version__
from .errors import BadDsn, MinidumpError, TripwireError

__all__ = ["BadDsn", "Dsn", "MinidumpError", "TripwireError", "__version__"]
