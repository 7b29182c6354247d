from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.clock import CompressedClock, SystemClock, real_time_span
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
    epoch = datetime.now(UTC) - timedelta(seconds=1)
    clock = CompressedClock(3_600, epoch=epoch)
    first = clock.now()
    second = clock.now()
    # One real second after the epoch is an hour of compressed time.
    assert epoch + timedelta(hours=1) <= first <= second
    with pytest.raises(ValueError, match="positive"):
        CompressedClock(0)
    with pytest.raises(ValueError, match="aware"):
        CompressedClock(2, epoch=datetime(2025, 1, 1))


def test_compressed_clocks_with_one_epoch_agree_whenever_created() -> None:
    epoch = datetime.now(UTC)
    early = CompressedClock(1_000, epoch=epoch)
    late = CompressedClock(1_000, epoch=epoch)
    assert abs(early.now() - late.now()) < timedelta(seconds=60)


def test_real_time_spans_stretch_only_on_a_sped_up_clock() -> None:
    five_minutes = timedelta(minutes=5)
    assert real_time_span(SystemClock(), five_minutes) == five_minutes
    assert real_time_span(FakeClock(), five_minutes) == five_minutes
    assert real_time_span(CompressedClock(43_200), five_minutes) == five_minutes * 43_200
