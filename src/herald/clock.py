"""Time as a dependency.

Everything that needs "now" receives a :class:`Clock`; nothing calls
``datetime.now()`` directly. Tests pass :class:`herald.testing.FakeClock` and
run a seven-day follow-up in milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time as an aware UTC datetime."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class CompressedClock:
    """A clock that runs ``speedup`` times faster than the wall clock.

    Used by the demo and the multi-process tests so that days of follow-up
    delay pass in seconds. Time is measured from ``epoch``: processes given
    the same epoch and speedup agree on "now" whenever each of them started,
    which a per-process origin would not.
    """

    def __init__(self, speedup: float, *, epoch: datetime | None = None) -> None:
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        if epoch is not None and epoch.tzinfo is None:
            raise ValueError("the epoch must be an aware datetime")
        self.speedup = speedup
        self.epoch = epoch or datetime.now(UTC)

    def now(self) -> datetime:
        return self.epoch + (datetime.now(UTC) - self.epoch) * self.speedup


def real_time_span(clock: Clock, real: timedelta) -> timedelta:
    """How much of ``clock``'s time passes during ``real`` wall-clock time.

    Durations that guard work in flight (a worker's lease on the journeys it
    is sending) are meant in real time: a provider call takes the same
    seconds whatever the clock says. On a sped-up clock they must be
    stretched, or a lease would run out while its send is still on the wire.
    """
    if isinstance(clock, CompressedClock):
        return real * clock.speedup
    return real
