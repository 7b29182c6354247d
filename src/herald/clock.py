"""Time as a dependency.

Everything that needs "now" receives a :class:`Clock`; nothing calls
``datetime.now()`` directly. Tests pass :class:`herald.testing.FakeClock` and
run a seven-day follow-up in milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
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

    Used by the demo so that days of follow-up delay pass in seconds while
    every component still sees consistent, monotonic time.
    """

    def __init__(self, speedup: float, *, origin: datetime | None = None) -> None:
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        self.speedup = speedup
        self._wall_origin = datetime.now(UTC)
        self._origin = origin or self._wall_origin

    def now(self) -> datetime:
        elapsed = datetime.now(UTC) - self._wall_origin
        return self._origin + elapsed * self.speedup
