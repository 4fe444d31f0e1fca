"""Upload the minidumps a native crash handler leaves in a folder.

Breakpad, Crashpad and friends write ``*.dmp`` files when a native component
crashes, often while the process dies. :class:`MinidumpFolderIntegration` looks
at the folder when tripwire starts and then every ``interval`` seconds, uploads
each dump once, deletes it only after the server accepted it, and moves a dump
the server rejects as invalid into a ``rejected/`` subfolder, so it is never
uploaded twice.

The bookkeeping is :class:`CrashFolder`, which knows nothing of HTTP: it is given
an ``upload(path)`` callable that answers an :class:`Outcome` at once, or
``Outcome.PENDING`` and reports the result later through :meth:`CrashFolder.settle`.
"""

from __future__ import annotations

import enum
import fnmatch
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, ClassVar, Optional, Union

from .._hub import Hub
from .._log import logger
from ..errors import MinidumpError
from . import Integration

REJECTED_DIRNAME = "rejected"


class Outcome(enum.Enum):
    """What became of one upload."""

    ACCEPTED = "accepted"
    """The server took it (2xx): delete the file."""
    REJECTED = "rejected"
    """The server or tripwire found it invalid: move it aside, never send it again."""
    RETRY = "retry"
    """Not sent or not taken for a passing reason (network, 5xx, 429, auth): try next scan."""
    PENDING = "pending"
    """Queued; the outcome will be given to :meth:`CrashFolder.settle` later."""


# 4xx answers that say "this dump is bad"; others (401, 403, 404, 429) say
# nothing about the dump and it is kept for a later attempt.
_INVALID_STATUSES = frozenset({400, 413, 415, 422})


def outcome_for_status(status: int | None) -> Outcome:
    """The outcome of an HTTP answer; ``None`` means no answer (a network error)."""
    if status is None:
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.ACCEPTED
    if status in _INVALID_STATUSES:
        return Outcome.REJECTED
    return Outcome.RETRY


Upload = Callable[[str], Outcome]


@dataclass(frozen=True)
class _Seen:
    inode: int
    size: int
    mtime_ns: int


class CrashFolder:
    """Which dumps in a folder to upload, and what to do with each once answered.

    Thread-safe: :meth:`scan` runs on the integration's thread, :meth:`settle`
    on whichever thread learns the outcome.
    """

    def __init__(
        self,
        path: Union[str, os.PathLike[str]],
        upload: Upload,
        *,
        pattern: str = "*.dmp",
        min_age: float = 2.0,
    ) -> None:
        self.path = os.fspath(path)
        self.rejected_path = os.path.join(self.path, REJECTED_DIRNAME)
        self._upload = upload
        self._pattern = pattern
        # A dump younger than this may still be being written by the crash handler.
        self._min_age = min_age
        self._lock = threading.Lock()
        self._in_flight: dict[str, _Seen] = {}
        # Dealt with, but the file could not be removed: never sent again
        # unless a new file (another inode or mtime) takes its name.
        self._done: dict[str, _Seen] = {}

    def in_flight(self) -> list[str]:
        """Paths uploaded and waiting for their outcome."""
        with self._lock:
            return sorted(self._in_flight)

    def scan(self, now: float) -> list[str]:
        """Upload every ready dump not already in flight or dealt with; return their paths.

        ``now`` is ``time.time()``, compared with the files' modification times.
        """
        started: list[str] = []
        for path, seen, mtime in self._candidates():
            if now - mtime < self._min_age:
                continue
            with self._lock:
                if path in self._in_flight or self._done.get(path) == seen:
                    continue
                self._in_flight[path] = seen
            started.append(path)
            outcome = self._try_upload(path)
            if outcome is not Outcome.PENDING:
                self.settle(path, outcome)
        return started

    def settle(self, path: str, outcome: Outcome) -> None:
        """Act on the outcome of the upload of ``path``: delete, move aside, or keep for later."""
        with self._lock:
            seen = self._in_flight.pop(path, None)
        if seen is None:
            logger.debug("outcome %s for %s, which is not in flight; ignored", outcome.value, path)
            return
        if outcome is Outcome.ACCEPTED:
            self._finish(path, seen, self._delete)
        elif outcome is Outcome.REJECTED:
            self._finish(path, seen, self._move_aside)

    def _candidates(self) -> list[tuple[str, _Seen, float]]:
        found: list[tuple[str, _Seen, float]] = []
        try:
            entries = list(os.scandir(self.path))
        except OSError as e:
            logger.warning("cannot list the minidump folder %r: %s", self.path, e.strerror or e)
            return found
        for entry in entries:
            if not fnmatch.fnmatch(entry.name, self._pattern):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # removed between listing and stat
            seen = _Seen(st.st_ino, st.st_size, st.st_mtime_ns)
            found.append((entry.path, seen, st.st_mtime))
        found.sort(key=lambda item: item[2])  # oldest crash first
        return found

    def _try_upload(self, path: str) -> Outcome:
        try:
            outcome = self._upload(path)
        except MinidumpError as e:
            logger.warning("minidump %r cannot be uploaded and is moved aside: %s", path, e)
            return Outcome.REJECTED
        except Exception:
            logger.exception("uploading minidump %r failed; it is kept for the next scan", path)
            return Outcome.RETRY
        if not isinstance(outcome, Outcome):
            logger.warning(
                "upload of %r answered %r, not an Outcome; retrying later", path, outcome
            )
            return Outcome.RETRY
        return outcome

    def _finish(self, path: str, seen: _Seen, action: Callable[[str], None]) -> None:
        try:
            action(path)
        except FileNotFoundError:
            pass  # someone else cleaned up: nothing left to send twice
        except OSError as e:
            logger.warning("cannot clean up minidump %r (%s); it will not be sent again", path, e)
            with self._lock:
                self._done[path] = seen

    def _delete(self, path: str) -> None:
        os.remove(path)

    def _move_aside(self, path: str) -> None:
        os.makedirs(self.rejected_path, exist_ok=True)
        name = os.path.basename(path)
        target = os.path.join(self.rejected_path, name)
        counter = 1
        while os.path.exists(target):
            target = os.path.join(self.rejected_path, f"{name}.{counter}")
            counter += 1
        os.replace(path, target)
        logger.info("moved the rejected minidump %r to %r", path, target)


class MinidumpFolderIntegration(Integration):
    """Upload the ``*.dmp`` files in ``path`` at start-up and every ``interval`` seconds.

    ``upload(path) -> Outcome`` sends one dump; the client connects it to the
    transport when the integration is set up (see :meth:`connect`).
    """

    identifier: ClassVar[str] = "minidump_folder"

    def __init__(
        self,
        path: Union[str, os.PathLike[str]],
        interval: float = 60.0,
        *,
        pattern: str = "*.dmp",
        min_age: float = 2.0,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"MinidumpFolderIntegration interval must be positive, got {interval}")
        self.interval = float(interval)
        self._upload: Optional[Upload] = None
        self.folder = CrashFolder(path, self._dispatch, pattern=pattern, min_age=min_age)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def connect(self, upload: Upload) -> None:
        """Set the function that sends one dump (the client does this)."""
        self._upload = upload

    def setup_once(self) -> None:
        """Start the scanning thread (once; a second ``init()`` keeps the running one)."""
        if self._upload is None:
            self.connect(self._upload_with_sdk)
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="tripwire-minidump-folder", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float = 2.0) -> None:
        """Stop scanning; waits at most ``timeout`` seconds for a scan in progress."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.folder.scan(time.time())
            except Exception:
                logger.exception("scanning the minidump folder %r failed", self.folder.path)
            self._stop.wait(self.interval)

    def _upload_with_sdk(self, path: str) -> Outcome:
        """Queue ``path`` on the main hub's client; the transport settles it when answered."""
        hub = Hub.main
        client = hub.client
        if client is None or not client.is_active():
            return Outcome.RETRY
        try:
            event_id = client.capture_minidump(
                path,
                scope=hub.scope,
                on_done=lambda status: self.folder.settle(path, outcome_for_status(status)),
            )
        except MinidumpError as exc:
            logger.warning("crash folder: %s; moved aside", exc)
            return Outcome.REJECTED
        return Outcome.PENDING if event_id is not None else Outcome.RETRY

    def _dispatch(self, path: str) -> Outcome:
        if self._upload is None:
            logger.debug("minidump folder integration not connected to a client yet")
            return Outcome.RETRY
        return self._upload(path)
