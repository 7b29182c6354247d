"""Worker leases are meant in real seconds, whatever Herald's clock does."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from herald.clock import CompressedClock
from herald.services.container import Herald
from herald.services.runtime import worker_lease
from herald.settings import Settings
from herald.testing import FakeClock


def _herald(tmp_path: Path, clock: FakeClock | CompressedClock, **settings: object) -> Herald:
    values = {"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'h.db'}"}
    return Herald.create(Settings(**(values | settings)), clock)  # type: ignore[arg-type]


def test_the_lease_is_stretched_on_a_sped_up_clock(tmp_path: Path) -> None:
    herald = _herald(tmp_path, CompressedClock(360), worker_lease_seconds=10)
    try:
        assert worker_lease(herald) == timedelta(hours=1)
    finally:
        herald.close()


def test_the_default_lease_is_five_real_minutes(tmp_path: Path) -> None:
    herald = _herald(tmp_path, FakeClock())
    try:
        assert worker_lease(herald) == timedelta(minutes=5)
    finally:
        herald.close()
