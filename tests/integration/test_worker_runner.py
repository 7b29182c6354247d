"""The worker loop: keeps going after failures, sleeps when idle, stops cleanly."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import Engine

from herald.engine.worker import Worker, WorkerRunner
from herald.store.database import create_session_factory
from herald.store.workers import live_workers
from herald.testing import FakeClock


class Flaky(Worker):
    name = "flaky"
    idle_seconds = 0.01

    def __init__(self) -> None:
        self.calls = 0

    async def run_once(self) -> int:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("one bad batch")
        return 1 if self.calls < 5 else 0


def test_a_failing_iteration_does_not_stop_the_loop(engine: Engine) -> None:
    sessions = create_session_factory(engine)
    clock = FakeClock()
    worker = Flaky()
    runner = WorkerRunner([worker], sessions=sessions, clock=clock)
    seen_live: list[int] = []

    async def scenario() -> None:
        task = asyncio.create_task(runner.run())
        while worker.calls < 8:
            await asyncio.sleep(0.01)
        with sessions() as session:
            seen_live.append(len(live_workers(session, clock.now(), timedelta(seconds=30))))
        runner.stop()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    assert runner.failures["flaky"] == 1
    assert worker.calls >= 8
    assert seen_live == [1]
    with sessions() as session:
        assert live_workers(session, clock.now(), timedelta(seconds=30)) == []


def test_wake_cuts_the_idle_sleep_short(engine: Engine) -> None:
    class Idle(Worker):
        name = "idle"
        idle_seconds = 60.0
        calls = 0

        async def run_once(self) -> int:
            self.calls += 1
            return 0

    worker = Idle()
    runner = WorkerRunner([worker], sessions=create_session_factory(engine), clock=FakeClock())

    async def scenario() -> None:
        task = asyncio.create_task(runner.run())
        while worker.calls < 1:
            await asyncio.sleep(0.01)
        runner.wake("idle")
        while worker.calls < 2:
            await asyncio.sleep(0.01)
        runner.stop()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    assert worker.calls >= 2
