"""Rate limits held in the database: never more than the rate, across workers."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from herald.engine.rate_limit import DatabaseRateLimiter
from herald.store.database import create_session_factory
from herald.store.integrations import IntegrationRow
from herald.store.rate_limits import reserve_tokens
from herald.testing import FakeClock

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _integration(engine: Engine) -> int:
    with Session(engine) as session:
        row = IntegrationRow(
            name="wa",
            kind="whatsapp",
            settings={},
            is_active=True,
            rate_limit_per_second=80,
            health="unknown",
            created_at=START,
            updated_at=START,
        )
        session.add(row)
        session.commit()
        return row.id


def test_burst_then_refill_at_the_rate(engine: Engine) -> None:
    integration_id = _integration(engine)
    with Session(engine) as session:
        first = reserve_tokens(session, integration_id, 500, 80, START)
        second = reserve_tokens(session, integration_id, 500, 80, START)
        later = reserve_tokens(session, integration_id, 500, 80, START + timedelta(seconds=0.5))
        session.commit()
    assert first.granted == 80  # one second of burst
    assert second.granted == 0
    assert second.wait_seconds == 1 / 80
    assert later.granted == 40


def test_concurrent_workers_never_exceed_the_rate(engine: Engine) -> None:
    """Threads with their own connections reserve at the same instants."""
    integration_id = _integration(engine)
    sessions = create_session_factory(engine)
    granted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for step in range(20):
            moment = START + timedelta(seconds=step * 0.1)
            with sessions() as session, session.begin():
                reservation = reserve_tokens(session, integration_id, 7, 50, moment)
            with lock:
                granted.append(reservation.granted)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Burst (50) plus 1.9 s of refill at 50/s, whatever the interleaving.
    assert sum(granted) <= 50 + 95
    assert sum(granted) >= 50


def test_async_limiter_waits_for_tokens(engine: Engine) -> None:
    integration_id = _integration(engine)
    clock = FakeClock(START)
    limiter = DatabaseRateLimiter(create_session_factory(engine), clock)

    async def run() -> list[int]:
        first = await limiter.acquire(integration_id, 3, 2)
        waiter = asyncio.create_task(limiter.acquire(integration_id, 3, 2))
        await asyncio.sleep(0.05)
        assert not waiter.done()  # no tokens until the clock moves
        clock.advance(timedelta(seconds=1))
        return [first, await asyncio.wait_for(waiter, 5)]

    assert asyncio.run(run()) == [2, 2]
