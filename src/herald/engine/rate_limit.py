"""Waiting for send capacity, per integration, shared by every worker.

:meth:`DatabaseRateLimiter.acquire` blocks (asynchronously) until at least one
token is available and returns how many sends the caller may make now. The
reservation itself is a short database transaction run in a thread so the
event loop keeps sending meanwhile.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from sqlalchemy.orm import Session, sessionmaker

from herald.clock import Clock
from herald.store.rate_limits import Reservation, reserve_tokens

MIN_WAIT_SECONDS = 0.005


class DatabaseRateLimiter:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        # SQLite cannot upgrade two concurrent readers to writers; one
        # reservation at a time per integration within a process avoids it.
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def acquire(self, integration_id: int, wanted: int, rate_per_second: float) -> int:
        """Wait until sends are allowed; return how many (1..wanted)."""
        if wanted <= 0:
            return 0
        while True:
            async with self._locks[integration_id]:
                reservation = await asyncio.to_thread(
                    self._reserve, integration_id, wanted, rate_per_second
                )
            if reservation.granted > 0:
                return reservation.granted
            await asyncio.sleep(max(MIN_WAIT_SECONDS, reservation.wait_seconds))

    def _reserve(self, integration_id: int, wanted: int, rate_per_second: float) -> Reservation:
        with self._sessions() as session, session.begin():
            return reserve_tokens(
                session, integration_id, wanted, rate_per_second, self._clock.now()
            )
