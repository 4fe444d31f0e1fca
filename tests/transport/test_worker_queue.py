"""The worker: bounded queue, lazy thread, flush/close by deadline, inline drain, fork reset, fork gate."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tripwire import _worker
from tripwire._worker import ForkGate, Worker


class Recorder:
    """A process function that records items and can be held back by a gate."""

    def __init__(self) -> None:
        self.items: list[object] = []
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, item: object, deadline: float | None) -> None:
        self.gate.wait(5.0)
        self.threads.add(threading.current_thread().name)
        self.items.append(item)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.gate.set()


def make(rec: Recorder, max_items: int = 100, max_bytes: int = 10_000) -> Worker[object]:
    return Worker(rec, max_items=max_items, max_bytes=max_bytes, name="test-worker")


def test_thread_starts_lazily(recorder: Recorder) -> None:
    """No thread runs until the first item is submitted."""
    worker = make(recorder)
    assert worker._thread is None
    assert worker.submit("a")
    assert worker._thread is not None and worker._thread.daemon
    assert worker.close(2.0) == 0


def test_flush_waits_for_items_submitted_before(recorder: Recorder) -> None:
    """flush() returns once every earlier item is processed, in order, on the worker thread."""
    worker = make(recorder)
    for i in range(50):
        assert worker.submit(i)
    assert worker.flush(5.0) == 0
    assert recorder.items == list(range(50))
    assert recorder.threads == {"test-worker"}
    worker.close(1.0)


def test_full_queue_by_count_refuses(recorder: Recorder) -> None:
    """When max_items are queued, submit returns False without waiting."""
    recorder.gate.clear()
    worker = make(recorder, max_items=3)
    results = [worker.submit(i) for i in range(10)]
    # One item may already be taken by the (blocked) thread, so 3 or 4 are accepted.
    assert results[:3] == [True, True, True]
    assert results.count(True) in (3, 4)
    assert results[-1] is False
    recorder.gate.set()
    assert worker.close(2.0) == 0


def test_full_queue_by_bytes_refuses(recorder: Recorder) -> None:
    """Items beyond max_bytes of estimated size are refused, but one big item alone is accepted."""
    recorder.gate.clear()
    worker = make(recorder, max_bytes=100)
    assert worker.submit("blocker", 10)
    deadline = time.monotonic() + 2
    while len(worker) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert worker.submit("big", 1000)
    assert not worker.submit("more", 1)
    recorder.gate.set()
    assert worker.flush(2.0) == 0
    assert worker.submit("after", 60)
    worker.close(1.0)


def test_flush_timeout_reports_pending(recorder: Recorder) -> None:
    """A flush that runs out of time returns how many items are still pending."""
    recorder.gate.clear()
    worker = make(recorder)
    for i in range(5):
        worker.submit(i)
    assert worker.flush(0.05) == 5
    recorder.gate.set()
    assert worker.flush(2.0) == 0
    worker.close(1.0)


def test_close_refuses_later_items_and_stops_thread(recorder: Recorder) -> None:
    """After close() the thread is gone and submit returns False."""
    worker = make(recorder)
    worker.submit(1)
    assert worker.close(2.0) == 0
    assert worker._thread is not None and not worker._thread.is_alive()
    assert not worker.submit(2)
    assert recorder.items == [1]


def test_close_by_deadline_with_stuck_item(recorder: Recorder) -> None:
    """close() returns by its deadline while an item is stuck, reporting it pending."""
    recorder.gate.clear()
    worker = make(recorder)
    worker.submit(1)
    worker.submit(2)
    started = time.monotonic()
    assert worker.close(0.2) == 2
    assert time.monotonic() - started < 2.0
    recorder.gate.set()
    worker._thread.join(2.0)  # type: ignore[union-attr]
    # Item 1 was already in flight; item 2 is abandoned past the deadline.
    assert recorder.items == [1]


def test_flush_drains_inline_when_no_thread_can_start(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When threads cannot start (interpreter shutdown), flush() sends on the calling thread."""

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    worker = make(recorder)
    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert worker.submit("queued before any thread")
    assert worker._thread is None
    assert worker.flush(2.0) == 0
    assert recorder.items == ["queued before any thread"]
    assert recorder.threads == {threading.current_thread().name}


def test_reset_after_fork_gives_empty_queue_and_free_lock(recorder: Recorder) -> None:
    """The fork reset drops queued items and replaces a held lock, so the child can submit."""
    recorder.gate.clear()
    worker = make(recorder)
    for i in range(3):
        worker.submit(i)
    worker._lock.acquire()  # as if another thread held it at fork time
    worker.reset_after_fork()
    assert len(worker) == 0
    assert worker._thread is None
    recorder.gate.set()
    assert worker.submit("child")
    assert worker.flush(2.0) == 0
    assert "child" in recorder.items
    worker.close(1.0)


def test_idle_hook_runs_when_queue_empties(recorder: Recorder) -> None:
    """The idle hook is called when the queue runs empty, and again after the delay it returns."""
    calls: list[float] = []

    def idle(deadline: float | None) -> float | None:
        calls.append(time.monotonic())
        return 0.01 if len(calls) < 3 else None

    worker = Worker(recorder, max_items=10, max_bytes=100, idle=idle)
    worker.submit(1)
    deadline = time.monotonic() + 2
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(calls) >= 3
    worker.close(1.0)


def test_fork_gate_waits_for_a_thread_inside_and_holds_new_ones_back() -> None:
    """before_fork() waits until a worker leaves the gate; entering waits until the fork is over."""
    gate = ForkGate()
    inside, leave, entered = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def busy() -> None:
        with gate:
            inside.set()
            leave.wait(5.0)
            order.append("left")

    def late() -> None:
        with gate:
            order.append("entered")
            entered.set()

    first = threading.Thread(target=busy)
    first.start()
    assert inside.wait(5.0)
    releaser = threading.Timer(0.1, leave.set)
    releaser.start()
    gate.before_fork()
    order.append("forked")
    second = threading.Thread(target=late)
    second.start()
    assert not entered.wait(0.1)
    gate.after_fork_in_parent()
    assert entered.wait(5.0)
    for thread in (first, second, releaser):
        thread.join(5.0)
    assert order == ["left", "forked", "entered"]


def test_fork_gate_does_not_wait_for_blocking_io_or_the_forking_thread(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither a worker waiting outside() (on a socket) nor the forking thread itself delays a fork."""
    monkeypatch.setattr(_worker, "FORK_WAIT", 0.05)
    gate = ForkGate()
    waiting, release, back = threading.Event(), threading.Event(), threading.Event()

    def blocked() -> None:
        with gate:
            with gate.outside():
                waiting.set()
                release.wait(5.0)
            back.set()

    thread = threading.Thread(target=blocked)
    thread.start()
    assert waiting.wait(5.0)
    with gate:
        gate.before_fork()
        assert "still busy" not in caplog.text
        release.set()
        # Stepping back in waits for the fork to be over.
        assert not back.wait(0.1)
        gate.after_fork_in_parent()
    assert back.wait(5.0)
    thread.join(5.0)


def test_fork_gate_gives_up_after_fork_wait(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker stuck inside the gate delays a fork by FORK_WAIT at most, with a warning."""
    monkeypatch.setattr(_worker, "FORK_WAIT", 0.05)
    gate = ForkGate()
    inside, leave = threading.Event(), threading.Event()

    def stuck() -> None:
        with gate:
            inside.set()
            leave.wait(5.0)

    thread = threading.Thread(target=stuck)
    thread.start()
    assert inside.wait(5.0)
    gate.before_fork()
    gate.after_fork_in_parent()
    leave.set()
    thread.join(5.0)
    assert "still busy" in caplog.text


def test_fork_gate_in_child_counts_only_the_forking_thread(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """In the child the gate forgets the parent's other threads and any fork in progress."""
    monkeypatch.setattr(_worker, "FORK_WAIT", 0.05)
    gate = ForkGate()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with gate:
            inside.set()
            leave.wait(5.0)

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(5.0)
    gate.after_fork_in_child()  # as in a child, where the other thread does not exist
    gate.before_fork()
    assert "still busy" not in caplog.text
    gate.after_fork_in_parent()
    leave.set()
    thread.join(5.0)
