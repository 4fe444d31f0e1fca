"""The exceptions tripwire raises to its users.

Everything tripwire raises on purpose derives from :class:`TripwireError`, so
callers can catch the whole family at once. They are only raised while the SDK
is being configured (``init()``, ``Dsn.parse()``, ...); once running, the SDK
logs its faults instead of raising them into the host application.
"""

from __future__ import annotations


class TripwireError(Exception):
    """Base class of every exception tripwire raises on purpose."""


class BadDsn(TripwireError, ValueError):
    """The DSN could not be parsed; the message says why and never holds the secret key."""


class MinidumpError(TripwireError, ValueError):
    """A minidump or attachment was refused before anything was sent (signature, size)."""
