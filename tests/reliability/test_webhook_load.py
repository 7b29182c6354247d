"""Webhook ingestion under load loses nothing (bench/webhooks.py, bounded).

The load generator posts signed status callbacks at a real ``herald serve``
process; every callback must be answered 200 and stored exactly once. The
quick size posts a few hundred; ``scripts/reliability --full`` runs the
benchmark itself with tens of thousands and records the rate and p99.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest
from bench.webhooks import run

from tests.reliability.conftest import Report, Scale

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_signed_callbacks_under_load_are_all_stored_once(
    backend: str, scale: Scale, report: Report, request: pytest.FixtureRequest
) -> None:
    database_url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    result = run(database_url, count=scale.webhook_callbacks, seconds=60, concurrency=16)
    assert result.answered_ok == result.callbacks_sent > 0, result.answers
    assert result.events_stored == result.callbacks_sent
    assert result.lost == 0
    report.add(f"webhook_load_{backend}", asdict(result))


def test_the_bench_is_bounded_in_time() -> None:
    """``--seconds`` stops the sending even when ``--count`` is not reached."""
    result = run(None, count=1_000_000, seconds=2.0, concurrency=8)
    assert result.callbacks_sent < 1_000_000
    assert result.seconds < 10
    assert result.lost == 0
