"""The async Redis calls' deadlines: one coarse timer per loop, asyncio's cancellation rules kept."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref

import pytest

from session_middleware.stores._redis_deadlines import Deadlines

TIMEOUT = 0.2


async def _sleep(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


def test_a_call_within_its_deadline_returns_its_result() -> None:
    deadlines = Deadlines(TIMEOUT)

    async def scenario() -> None:
        assert await deadlines.run(_sleep, 0.01) == "done"
        assert [await deadlines.run(_sleep, 0) for _ in range(100)] == ["done"] * 100

    asyncio.run(scenario())


def test_a_late_call_fails_with_timeout_error_within_a_quarter_more() -> None:
    deadlines = Deadlines(TIMEOUT)

    async def scenario() -> None:
        task = asyncio.current_task()
        assert task is not None
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await deadlines.run(_sleep, 10)
        elapsed = time.monotonic() - started
        assert TIMEOUT <= elapsed < TIMEOUT * 1.25 + 0.1
        assert task.cancelling() == 0  # the cancellation it used is taken back
        assert await deadlines.run(_sleep, 0) == "done"  # and the task carries on

    asyncio.run(scenario())


def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    deadlines = Deadlines(TIMEOUT)

    async def scenario() -> None:
        task = asyncio.ensure_future(deadlines.run(_sleep, 10))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_an_outer_timeout_shorter_than_the_deadline_is_the_outer_ones() -> None:
    deadlines = Deadlines(10)

    async def scenario() -> None:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await deadlines.run(_sleep, 10)
        assert time.monotonic() - started < 1

    asyncio.run(scenario())


def test_concurrent_calls_each_get_their_own_deadline() -> None:
    deadlines = Deadlines(TIMEOUT)

    async def scenario() -> None:
        results = await asyncio.gather(
            deadlines.run(_sleep, 10), deadlines.run(_sleep, 0.01), deadlines.run(_sleep, 10), return_exceptions=True
        )
        assert isinstance(results[0], TimeoutError) and isinstance(results[2], TimeoutError)
        assert results[1] == "done"

    asyncio.run(scenario())


def test_each_event_loop_has_its_own_timer_and_it_stops_when_idle() -> None:
    deadlines = Deadlines(TIMEOUT)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        assert await deadlines.run(_sleep, 0) == "done"
        state = deadlines._for(loop)
        assert state.calls == {}
        await asyncio.sleep(TIMEOUT / 4 + 0.05)  # the next sweep finds nothing and stops
        assert state.timer is False
        with pytest.raises(TimeoutError):
            await deadlines.run(_sleep, 10)

    for _ in range(2):  # a second loop (as asyncio.run makes) works the same
        asyncio.run(scenario())


def test_a_finished_loop_is_not_kept_alive() -> None:
    deadlines = Deadlines(TIMEOUT)
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def scenario() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        assert await deadlines.run(_sleep, 0) == "done"

    for _ in range(3):
        asyncio.run(scenario())
    gc.collect()
    assert [ref() for ref in loops[:-1]] == [None, None]  # the last one may be remembered weakly only
    assert len(deadlines._loops) <= 1


def test_a_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Deadlines(0)
