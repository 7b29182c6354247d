"""A launch leaves PostgreSQL's planner knowing how many journeys the campaign has.

Without fresh statistics the running campaign's contact list is planned as
"fetch every journey, sort" instead of a walk of the (campaign, contact)
index; see herald.store.statistics.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import _copy_postgres
from tests.support.engine import EngineHarness

CSV = "email,phone,name,appointment_date\n" + "".join(
    f"p{index}@example.com,+1202555{index:04d},P{index},2025-03-10\n" for index in range(120)
)


@pytest.fixture
def harness(postgres_template: tuple[str, str], tmp_path: Path) -> Iterator[EngineHarness]:
    """PostgreSQL only: SQLite's plan for this list does not depend on statistics."""
    for url in _copy_postgres(*postgres_template):
        harness = EngineHarness.create(url, tmp_path)
        yield harness
        harness.close()


@pytest.mark.postgres
def test_launch_refreshes_the_journey_statistics(harness: EngineHarness) -> None:
    harness.launch(CSV)

    with harness.herald.sessions() as session:
        counts = dict(
            session.execute(
                text(
                    "SELECT relname, reltuples FROM pg_class"
                    " WHERE relname IN ('journeys', 'audience_contacts')"
                )
            ).all()
        )
    assert counts["journeys"] == 120
    assert counts["audience_contacts"] >= 120
