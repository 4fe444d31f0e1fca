"""Shapes shared between layers: payload aliases and the units of work handed
from the client to the transport.

Payloads are plain dicts (they go to JSON); the aliases document intent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, Literal, Optional, Union

from ._typing import TypeAlias

Event: TypeAlias = Dict[str, Any]
"""An event payload being built; JSON-safe once the client hands it on."""

Hint: TypeAlias = Dict[str, Any]
"""Extra, non-serialised information handed to hooks (``exc_info``, ``log_record``...)."""

Breadcrumb: TypeAlias = Dict[str, Any]

Level = Literal["fatal", "error", "warning", "info", "debug"]
LEVELS: tuple[str, ...] = ("fatal", "error", "warning", "info", "debug")

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Attachment:
    """A file sent beside an event as an envelope ``attachment`` item.

    Exactly one of ``bytes`` and ``path`` is set. A path is read on the worker
    thread, when the envelope is built, not when the attachment is added.
    """

    filename: str
    bytes: Optional[bytes] = None
    path: Optional[str] = None
    content_type: Optional[str] = None
    attachment_type: str = "event.attachment"

    def __post_init__(self) -> None:
        if (self.bytes is None) == (self.path is None):
            raise ValueError("an attachment needs exactly one of bytes= or path=")


@dataclass
class PreparedBody:
    """A request body built on the worker, ready for the wire."""

    data: Union[bytes, IO[bytes]]
    length: int
    content_type: str
    content_encoding: Optional[str] = None
    cleanup: Callable[[], None] = field(default=lambda: None)


@dataclass
class UploadJob:
    """A non-envelope upload (a multipart minidump) queued on the transport.

    ``build`` runs on the worker thread; a ``MinidumpError`` it raises is logged
    and the upload counted as lost. ``categories`` are the rate-limit categories
    that must all be open for the upload to be attempted.
    """

    event_id: str
    build: Callable[[], PreparedBody]
    categories: tuple[str, ...] = ("error", "attachment")
    endpoint: Literal["minidump"] = "minidump"
    estimated_bytes: int = 0
    on_done: Optional[Callable[[Optional[int]], None]] = None
    """Called on the worker with the HTTP status once the upload was answered, or with
    None when it never was (network error, rate limited, not buildable)."""
