"""An in-process rate limit for one client: at most N sends per second.

The engine enforces the per-integration limit across workers; this keeps a
single process from bursting past the provider's throughput on its own.
Scheduling is a pure reservation ledger (generic cell rate algorithm): each
caller reserves the next free slot and sleeps until it, so waiters are
served in arrival order and the ledger is testable without a clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLedger:
    """Reserves send slots at ``rate_per_second`` allowing bursts of ``burst``.

    ``reserve(now)`` returns how many seconds the caller must wait before
    sending. Times are monotonic seconds supplied by the caller.
    """

    def __init__(self, rate_per_second: float, burst: int | None = None) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self._interval = 1.0 / rate_per_second
        capacity = burst if burst is not None else max(1, int(rate_per_second))
        if capacity < 1:
            raise ValueError("burst must be at least 1")
        self._tolerance = (capacity - 1) * self._interval
        self._next_slot: float | None = None

    def reserve(self, now: float) -> float:
        slot = now if self._next_slot is None else max(self._next_slot, now)
        wait = max(0.0, slot - self._tolerance - now)
        self._next_slot = slot + self._interval
        return wait


class Throttle:
    """Awaitable front of :class:`RateLedger` over a monotonic clock."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        burst: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._ledger = RateLedger(rate_per_second, burst)
        self._monotonic = monotonic
        self._sleep = sleep

    async def acquire(self) -> None:
        wait = self._ledger.reserve(self._monotonic())
        if wait > 0:
            await self._sleep(wait)
