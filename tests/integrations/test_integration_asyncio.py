"""The opt-in asyncio integration: exceptions nobody awaited reach the server."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from typing import Any, Callable

import tripwire
from tripwire.integrations.asyncio import AsyncioIntegration
from tripwire.testing import CapturingTransport


def _errors(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [e for e in transport.events if "exception" in e]


def test_unawaited_task_exception_captured(
    init_sdk: Callable[..., CapturingTransport],
) -> None:
    """A failed task nobody awaited is sent once, mechanism asyncio, unhandled (with its tags on 3.12+)."""
    transport = init_sdk(integrations=[AsyncioIntegration()])
    logging.getLogger("asyncio").propagate = False  # keep the test output quiet
    try:

        async def fail() -> None:
            tripwire.set_tag("task", "fail")
            raise ConnectionError("peer gone")

        async def main() -> None:
            task = asyncio.get_running_loop().create_task(fail())
            await asyncio.sleep(0.01)
            assert task.done()
            del task
            gc.collect()  # the loop reports the exception when the task is collected

        asyncio.run(main())
        gc.collect()
    finally:
        logging.getLogger("asyncio").propagate = True
    [event] = _errors(transport)
    value = event["exception"]["values"][-1]
    assert value["type"] == "ConnectionError"
    assert value["mechanism"]["type"] == "asyncio"
    assert value["mechanism"]["handled"] is False
    if sys.version_info >= (3, 12):  # only 3.12+ lets tripwire read the task's context
        assert event.get("tags") == {"task": "fail"}
    assert event["extra"]["asyncio.message"] == "Task exception was never retrieved"


def test_callback_exception_captured(init_sdk: Callable[..., CapturingTransport]) -> None:
    """An exception raised by a loop callback is captured through the exception handler."""
    transport = init_sdk(integrations=[AsyncioIntegration()])
    handled: list[dict[str, object]] = []

    def callback() -> None:
        raise KeyError("from callback")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        # The application's own handler still runs after the capture.
        loop.set_exception_handler(lambda _loop, context: handled.append(context))
        loop.call_soon(callback)
        await asyncio.sleep(0.01)

    asyncio.run(main())
    [event] = _errors(transport)
    assert event["exception"]["values"][-1]["type"] == "KeyError"
    assert len(handled) == 1


def test_awaited_exception_not_captured(init_sdk: Callable[..., CapturingTransport]) -> None:
    """An exception that an awaiting coroutine handles sends nothing."""
    transport = init_sdk(integrations=[AsyncioIntegration()])

    async def fail() -> None:
        raise ValueError("handled by caller")

    async def main() -> str:
        try:
            await asyncio.create_task(fail())
        except ValueError:
            return "caught"
        return "not caught"

    assert asyncio.run(main()) == "caught"
    assert _errors(transport) == []


def test_not_captured_without_opt_in(init_sdk: Callable[..., CapturingTransport]) -> None:
    """Without AsyncioIntegration in integrations=, the patched handler sends nothing."""
    init_sdk(integrations=[AsyncioIntegration()])  # installs the hook
    transport = init_sdk()

    async def main() -> None:
        asyncio.get_running_loop().call_soon(lambda: 1 / 0)
        await asyncio.sleep(0.01)

    logging.getLogger("asyncio").propagate = False
    try:
        asyncio.run(main())
    finally:
        logging.getLogger("asyncio").propagate = True
    assert [e["logger"] for e in _errors(transport)] == ["asyncio"]
