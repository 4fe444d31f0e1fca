"""Threads started after init() get a hub forked from their starter's, at start()."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import pytest

import tripwire
from tripwire._hub import current_hub
from tripwire.integrations.threading import ThreadingIntegration
from tripwire.testing import CapturingTransport


def _tags_by_message(transport: CapturingTransport) -> dict[str, dict[str, object]]:
    return {e["logentry"]["formatted"]: e.get("tags", {}) for e in transport.events}


def test_eight_threads_isolated(init_sdk: Callable[..., CapturingTransport]) -> None:
    """Tags set in each of 8 threads stay in that thread's events; the starter's tags reach all."""
    transport = init_sdk()
    tripwire.set_tag("server", "s1")
    barrier = threading.Barrier(8, timeout=10)

    def work(n: int) -> None:
        tripwire.set_tag("worker", n)
        barrier.wait()  # every thread has set its tag before any captures
        tripwire.capture_message(f"from {n}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    tripwire.capture_message("from main")
    tags = _tags_by_message(transport)
    for n in range(8):
        assert tags[f"from {n}"] == {"server": "s1", "worker": n}
    assert tags["from main"] == {"server": "s1"}


def test_thread_sees_starter_scope_at_start_time(
    init_sdk: Callable[..., CapturingTransport],
) -> None:
    """A thread inherits its starter's scope as it was at start(), not later changes."""
    transport = init_sdk()
    go = threading.Event()

    def work() -> None:
        go.wait(10)
        tripwire.capture_message("child")

    with tripwire.isolation_scope() as scope:
        scope.set_tag("request", "r1")
        thread = threading.Thread(target=work)
        thread.start()
        scope.set_tag("after_start", True)
    go.set()
    thread.join(10)
    assert _tags_by_message(transport)["child"] == {"request": "r1"}


def test_propagate_scope_false_forks_main(init_sdk: Callable[..., CapturingTransport]) -> None:
    """With propagate_scope=False a thread starts from the main hub, not its starter's scope."""
    transport = init_sdk(integrations=[ThreadingIntegration(propagate_scope=False)])
    try:
        tripwire.set_tag("global", 1)
        with tripwire.isolation_scope() as scope:
            scope.set_tag("request", "r1")
            thread = threading.Thread(target=lambda: tripwire.capture_message("child"))
            thread.start()
            thread.join(10)
        assert _tags_by_message(transport)["child"] == {"global": 1}
    finally:
        ThreadingIntegration.propagate_scope = True


def test_finished_thread_drops_its_hub(init_sdk: Callable[..., CapturingTransport]) -> None:
    """A finished Thread object no longer holds the hub the wrapper gave it."""
    init_sdk()
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join(10)
    assert "run" not in thread.__dict__


def test_thread_subclass_run_still_called(init_sdk: Callable[..., CapturingTransport]) -> None:
    """A Thread subclass overriding run() runs its own run() under its own hub."""
    init_sdk()
    seen: list[object] = []

    class Worker(threading.Thread):
        def run(self) -> None:
            seen.append(current_hub())

    worker = Worker()
    worker.start()
    worker.join(10)
    assert len(seen) == 1
    assert seen[0] is not current_hub()


def test_pool_tasks_isolated(init_sdk: Callable[..., CapturingTransport]) -> None:
    """Tasks sharing one pool thread do not see each other's tags; each sees its submitter's."""
    transport = init_sdk()

    def task(n: int) -> None:
        tripwire.set_tag(f"task{n}", True)
        tripwire.capture_message(f"task {n}")

    with ThreadPoolExecutor(max_workers=1) as pool:
        for n in range(3):
            with tripwire.isolation_scope() as scope:
                scope.set_tag("submitter", n)
                pool.submit(task, n).result(10)
    tags = _tags_by_message(transport)
    for n in range(3):
        assert tags[f"task {n}"] == {"submitter": n, f"task{n}": True}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_thread_exception_in_process(init_sdk: Callable[..., CapturingTransport]) -> None:
    """threading.excepthook captures an exception that ends a thread, with mechanism threading."""
    transport = init_sdk()

    def boom() -> None:
        raise ArithmeticError("thread broke")

    thread = threading.Thread(target=boom)
    thread.start()
    thread.join(10)
    [event] = transport.events
    value = event["exception"]["values"][-1]
    assert value["type"] == "ArithmeticError"
    assert value["mechanism"]["type"] == "threading"
    assert value["mechanism"]["handled"] is False
