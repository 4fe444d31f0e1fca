"""A bounded queue drained by one lazily started daemon thread.

The caller's side (:meth:`Worker.submit`) takes a lock for an append and never
waits: a full queue (by count or by estimated bytes) refuses the item and the
caller counts the drop. :meth:`Worker.flush` waits until everything submitted
before the call has been processed, by a deadline; :meth:`Worker.close` is
flush, then stop and join, all by one deadline.

Two situations need the calling thread to do the work itself:

* Python 3.12+ refuses to start threads once interpreter shutdown has begun,
  so items submitted then (or before a thread ever started) are drained by
  :meth:`flush` on the thread that calls it, the exiting thread at exit.
* After ``os.fork()`` the child has no worker thread and may have inherited a
  held lock; :func:`os.register_at_fork` gives it fresh locks and an empty
  queue, so nothing the parent queued is sent twice.

A fork must also not land while a worker thread is half-way through importing
a module (the worker imports lazily: the finalizer, urllib3, codecs, whatever
a user hook needs): :data:`fork_gate` makes ``os.fork()`` wait for that.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections import deque
from typing import Callable, Generic, Protocol, TypeVar

from ._log import logger

T = TypeVar("T")

Process = Callable[[T, "float | None"], None]
"""Handles one item; the second argument is a monotonic deadline, or None."""

Idle = Callable[["float | None"], "float | None"]
"""Called when the queue runs empty; returns seconds until it wants another call."""


class _ForkAware(Protocol):
    def reset_after_fork(self) -> None: ...


class _ExitAware(Protocol):
    def at_exit(self) -> None: ...


FORK_WAIT = 5.0
"""Seconds ``os.fork()`` waits at most for worker threads to leave :data:`fork_gate`."""


class ForkGate:
    """Keeps ``os.fork()`` away from the moments a worker thread may be importing.

    importlib's per-module locks cross ``fork()`` as they were: a child forked
    while another thread was half-way through an import finds that module
    half-initialised, its lock held by a thread that does not exist there, and
    its first use of the module hangs for good. So worker threads do their work
    inside this gate and step out only to wait (for the queue, or on a socket:
    :meth:`outside`); a fork waits, up to :data:`FORK_WAIT`, until no other
    thread is inside, and threads that want in meanwhile wait for the fork.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._reset(0)

    def _reset(self, inside: int) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._inside = inside  # threads inside, each counted once however deep
        self._forking = 0  # forks in progress (several threads may fork at once)

    def _depth(self) -> int:
        depth: int = getattr(self._local, "depth", 0)
        return depth

    def __enter__(self) -> None:
        depth = self._depth()
        if depth == 0:
            with self._cond:
                while self._forking:
                    self._cond.wait()
                self._inside += 1
        self._local.depth = depth + 1

    def __exit__(self, *exc_info: object) -> None:
        depth = self._depth() - 1
        self._local.depth = depth
        if depth == 0:
            with self._cond:
                self._inside -= 1
                if self._forking:
                    self._cond.notify_all()

    def outside(self) -> _Outside:
        """Step out of the gate for a blocking wait that imports nothing (a no-op outside)."""
        return _Outside(self)

    def before_fork(self) -> None:
        mine = 1 if self._depth() else 0
        deadline = time.monotonic() + FORK_WAIT
        with self._cond:
            self._forking += 1
            while self._inside > mine:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            busy = self._inside > mine
        if busy:
            logger.warning(
                "forking while a tripwire worker is still busy after %.0fs; "
                "the child may be unable to send",
                FORK_WAIT,
            )

    def after_fork_in_parent(self) -> None:
        with self._cond:
            self._forking -= 1
            self._cond.notify_all()

    def after_fork_in_child(self) -> None:
        # Only the forking thread survives; its own depth (thread-local) carries over.
        self._reset(1 if self._depth() else 0)


class _Outside:
    def __init__(self, gate: ForkGate) -> None:
        self._gate = gate
        self._depth = 0

    def __enter__(self) -> None:
        gate = self._gate
        self._depth = gate._depth()
        if self._depth:
            gate._local.depth = 1
            gate.__exit__()

    def __exit__(self, *exc_info: object) -> None:
        gate = self._gate
        if self._depth:
            gate.__enter__()
            gate._local.depth = self._depth


fork_gate = ForkGate()
"""Worker threads run inside it; ``os.fork()`` waits until they are out."""

_fork_aware: weakref.WeakSet[_ForkAware] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    fork_gate.after_fork_in_child()
    for obj in list(_fork_aware):
        try:
            obj.reset_after_fork()
        except Exception:
            logger.exception("resetting %r after fork failed", obj)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=fork_gate.before_fork,
        after_in_parent=fork_gate.after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


def on_fork(obj: _ForkAware) -> None:
    """Call ``obj.reset_after_fork()`` in every forked child while ``obj`` lives."""
    _fork_aware.add(obj)


# One atexit hook for every live owner; weak references so that registering
# does not keep a discarded transport alive until exit.
_exit_aware: weakref.WeakSet[_ExitAware] = weakref.WeakSet()
_exit_lock = threading.Lock()
_exit_registered = False


def _at_exit() -> None:
    for obj in list(_exit_aware):
        try:
            obj.at_exit()
        except Exception:
            logger.exception("flushing tripwire at exit failed")


def on_exit(obj: _ExitAware) -> None:
    """Call ``obj.at_exit()`` when the interpreter exits, while ``obj`` lives."""
    global _exit_registered
    with _exit_lock:
        _exit_aware.add(obj)
        if not _exit_registered:
            atexit.register(_at_exit)
            _exit_registered = True


class Worker(Generic[T]):
    """One daemon thread processing queued items in order."""

    def __init__(
        self,
        process: Process[T],
        *,
        max_items: int,
        max_bytes: int,
        idle: Idle | None = None,
        name: str = "tripwire-worker",
    ) -> None:
        self._process = process
        self._idle = idle
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._name = name
        self._init_state()
        self._closed = False
        on_fork(self)

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._done_cond = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._queue: deque[tuple[T, int]] = deque()
        self._bytes = 0
        self._submitted = 0
        self._done = 0
        self._thread: threading.Thread | None = None
        self._stop = False
        self.deadline: float | None = None
        """A monotonic deadline every item must meet (set at shutdown), or None."""

    def resize(self, max_items: int, max_bytes: int) -> None:
        """Change the queue's bounds (items already queued stay)."""
        with self._lock:
            self._max_items, self._max_bytes = max_items, max_bytes

    # --- the caller's side ---

    def submit(self, item: T, size: int = 0, *, force: bool = False) -> bool:
        """Queue ``item`` (``size`` estimated bytes); False when closed or full.

        ``force`` skips the bounds, for the few control items the owner adds.
        """
        with self._lock:
            if self._closed:
                return False
            if not force and len(self._queue) >= self._max_items:
                return False
            if not force and self._queue and self._bytes + size > self._max_bytes:
                return False
            self._queue.append((item, size))
            self._bytes += size
            self._submitted += 1
            start = self._thread is None
        if start:
            self._start()
        self._wake.set()
        return True

    def wake(self) -> None:
        """Make the thread look at its work (and its idle hook) now, starting it if need be."""
        if self._thread is None and not self._closed:
            self._start()
        self._wake.set()

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._stop:
                return
            thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            try:
                thread.start()
            except RuntimeError:
                # Interpreter shutdown (3.12+) or no threads left: flush() drains instead.
                logger.debug("cannot start the worker thread; flush() will send inline")
                return
            self._thread = thread

    # --- the thread ---

    def _run(self) -> None:
        while True:
            self._wake.clear()
            self._drain(None)
            with self._lock:
                if self._stop and (not self._queue or self._past(self.deadline)):
                    self._abandon_locked()
                    return
            wait: float | None = None
            if self._idle is not None:
                with fork_gate:
                    try:
                        wait = self._idle(self.deadline)
                    except Exception:
                        logger.exception("tripwire worker idle task failed")
            self._wake.wait(wait)

    @staticmethod
    def _past(deadline: float | None) -> bool:
        return deadline is not None and time.monotonic() >= deadline

    def _abandon_locked(self) -> None:
        # Items a stopped worker will never send: they count as done so no later
        # flush() waits for them; close() has already reported them as pending.
        if self._queue:
            logger.warning(
                "%d queued item(s) not sent before the shutdown deadline", len(self._queue)
            )
            self._done += len(self._queue)
            self._queue.clear()
            self._bytes = 0
            self._done_cond.notify_all()

    def _drain(self, until: float | None) -> None:
        """Process queued items in order until the queue is empty or a deadline passes."""
        while True:
            deadline = self.deadline
            if until is not None:
                deadline = until if deadline is None else min(deadline, until)
            if self._past(deadline):
                return
            with self._lock:
                if not self._queue:
                    return
                item, size = self._queue.popleft()
                self._bytes -= size
            try:
                with fork_gate:
                    try:
                        self._process(item, deadline)
                    except Exception:
                        logger.exception("tripwire worker failed to process an item")
            finally:
                with self._lock:
                    self._done += 1
                    self._done_cond.notify_all()

    # --- flush and close ---

    def flush(self, timeout: float | None = None, *, stall: float | None = None) -> int:
        """Wait until everything submitted before now is processed; return how many remain.

        With ``stall`` (and no ``timeout``) the wait lasts as long as items keep being
        processed, and ends once none has been for ``stall`` seconds.
        """
        if threading.current_thread() is self._thread:
            # Called from the worker itself (an after_send hook): waiting would wait on us.
            with self._lock:
                return max(0, self._submitted - self._done - 1)
        if timeout is None and stall is not None:
            timeout = stall
        else:
            stall = None
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        with self._lock:
            target = self._submitted
            thread = self._thread
        if thread is None or not thread.is_alive():
            if thread is not None:
                self._thread = None
            self._start()
            if self._thread is None:
                # No thread can run (interpreter shutdown): send on this thread.
                self._drain(deadline)
        self._wake.set()
        with self._lock:
            last_done = self._done
            while self._done < target:
                now = time.monotonic()
                if stall is not None and self._done != last_done:
                    last_done, deadline = self._done, now + stall
                left = None if deadline is None else deadline - now
                if left is not None and left <= 0:
                    break
                self._done_cond.wait(left)
            return max(0, target - self._done)

    def close(self, timeout: float | None = None) -> int:
        """Refuse new items, flush, stop the thread; all by one deadline. Returns items left."""
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        with self._lock:
            self._closed = True
        if deadline is not None:
            self.deadline = deadline if self.deadline is None else min(self.deadline, deadline)
        left = self.flush(None if deadline is None else deadline - time.monotonic())
        with self._lock:
            self._stop = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._abandon_locked()
        return left

    def reset_after_fork(self) -> None:
        """In a forked child: fresh locks, no thread, and none of the parent's items."""
        self._init_state()
