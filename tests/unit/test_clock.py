from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.clock import CompressedClock
from herald.testing import FakeClock


def test_fake_clock_moves_only_forward() -> None:
    clock = FakeClock(datetime(2025, 1, 1, tzinfo=UTC))
    assert clock.advance(timedelta(days=7)) == datetime(2025, 1, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))


def test_fake_clock_refuses_naive_start() -> None:
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2025, 1, 1))


def test_compressed_clock_runs_faster_than_the_wall() -> None:
    origin = datetime(2025, 1, 1, tzinfo=UTC)
    clock = CompressedClock(86_400, origin=origin)
    first = clock.now()
    second = clock.now()
    assert origin <= first <= second
    with pytest.raises(ValueError, match="positive"):
        CompressedClock(0)
