"""Waking a journey locks it, so no worker claims it before the events are visible.

The fault suite found statuses that waited a whole delivery window: the
router skipped journeys that looked due already, so it took no row lock, a
worker claimed and released such a journey (with a far timer) before the
router's events were committed, and nothing woke it again. Waking now
always updates the row: a concurrent claim skips it until the events are
committed. PostgreSQL only: SQLite runs one writer at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from herald.engine.journey_store import claim_journeys, wake_journeys
from herald.store.journeys import JOURNEYS
from tests.support.engine import EngineHarness, reminder_journey

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]
CSV = "email,phone,name,appointment_date\na@example.com,+12025550101,A,2025-03-10\n"


@pytest.fixture
def harness(pg_url: str, tmp_path: Path) -> Iterator[EngineHarness]:
    harness = EngineHarness.create(pg_url, tmp_path)
    yield harness
    harness.close()


def test_a_woken_journey_cannot_be_claimed_until_the_waker_commits(harness: EngineHarness) -> None:
    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    (journey_id,) = harness.journey_ids(campaign)
    now = harness.clock.now() + timedelta(seconds=1)
    (due_before,) = harness.query(select(JOURNEYS.c.due_at).where(JOURNEYS.c.id == journey_id))[0]
    sessions = harness.herald.sessions
    with sessions() as router, router.begin():
        wake_journeys(router, [journey_id], now)  # the journey is due and free already
        with sessions() as worker, worker.begin():
            claimed = claim_journeys(worker, "w", now, timedelta(minutes=5), 10)
        assert claimed == [], "claimed while its events were not yet visible"
    with sessions() as worker, worker.begin():
        claimed = claim_journeys(worker, "w", now, timedelta(minutes=5), 10)
    assert [journey.id for journey in claimed] == [journey_id]
    # A due, free journey kept its place in the queue.
    assert due_before is not None and due_before <= now


def test_waking_a_claimed_journey_makes_it_due_now(harness: EngineHarness) -> None:
    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    (journey_id,) = harness.journey_ids(campaign)
    now = harness.clock.now()
    with harness.herald.sessions() as session, session.begin():
        claim_journeys(session, "w", now, timedelta(minutes=5), 10)
        wake_journeys(session, [journey_id], now)
    (due_at,) = harness.query(select(JOURNEYS.c.due_at).where(JOURNEYS.c.id == journey_id))[0]
    assert due_at == now
