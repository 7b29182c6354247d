"""The in-process send rate limit."""

from __future__ import annotations

import asyncio

import pytest

from herald.channels.whatsapp.throttle import RateLedger, Throttle


def test_a_burst_goes_at_once_then_sends_are_spaced() -> None:
    ledger = RateLedger(rate_per_second=10, burst=3)
    waits = [ledger.reserve(now=100.0) for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3])


def test_idle_time_refills_the_burst() -> None:
    ledger = RateLedger(rate_per_second=10, burst=2)
    assert [ledger.reserve(0.0) for _ in range(3)] == pytest.approx([0, 0, 0.1])
    assert [ledger.reserve(5.0) for _ in range(3)] == pytest.approx([0, 0, 0.1])


def test_steady_rate_over_many_sends() -> None:
    ledger = RateLedger(rate_per_second=80)
    waits = [ledger.reserve(0.0) for _ in range(800)]
    assert waits[79] == 0
    # 800 sends at 80/s with a burst of 80 finish 9 s after the first.
    assert waits[-1] == pytest.approx(720 / 80)


@pytest.mark.parametrize("rate, burst", [(0, None), (-1, None), (10, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int | None) -> None:
    with pytest.raises(ValueError):
        RateLedger(rate, burst)


def test_throttle_sleeps_only_when_the_ledger_says_so() -> None:
    sleeps: list[float] = []

    async def record(delay: float) -> None:
        sleeps.append(delay)

    async def run() -> None:
        throttle = Throttle(100, burst=2, monotonic=lambda: 50.0, sleep=record)
        for _ in range(4):
            await throttle.acquire()

    asyncio.run(run())
    assert sleeps == pytest.approx([0.01, 0.02])
