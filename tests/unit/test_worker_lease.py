"""Worker leases are meant in real seconds, whatever Herald's clock does."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from herald.services.runtime import worker_lease
from herald.settings import Settings


def test_the_lease_is_sped_up_with_the_clock(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, worker_lease_seconds=10, clock_speedup=360)
    assert worker_lease(settings) == timedelta(hours=1)


def test_the_default_lease_is_five_real_minutes(tmp_path: Path) -> None:
    assert worker_lease(Settings(data_dir=tmp_path)) == timedelta(minutes=5)
