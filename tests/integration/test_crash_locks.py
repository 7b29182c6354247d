"""Lock order between the event router and journey workers on PostgreSQL.

Found by the crash test: routers waking journeys deadlocked with journey
workers writing their batches back, because the wake-up locked rows in heap
order while workers lock in id order. Every writer now goes up by id, so a
router meeting a worker's rows waits instead of deadlocking.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import sessionmaker

from herald.channels.base import DeliveryStatus, DeliveryUpdate
from herald.domain.channels import IntegrationKind
from herald.engine.keys import message_key
from herald.engine.router import EventRouter
from tests.support.engine import EngineHarness, reminder_journey

CSV = (
    "phone,name,appointment_date\n"
    "+12025550101,Alex,2025-03-10\n"
    "+12025550102,Jamie,2025-03-11\n"
    "+12025550103,Priya,2025-03-12\n"
)


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[EngineHarness]:
    harness = EngineHarness.create(database_url, tmp_path)
    yield harness
    harness.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_router_waits_for_a_worker_holding_journeys_instead_of_deadlocking(
    harness: EngineHarness, database_url: str
) -> None:
    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    first, second, _third = harness.journey_ids(campaign)
    for journey_id in (first, second):
        harness.deliver(
            DeliveryUpdate(
                provider=IntegrationKind.WHATSAPP,
                provider_message_id=f"pm-{journey_id}",
                status=DeliveryStatus.DELIVERED,
                occurred_at=harness.clock.now(),
                correlation_key=message_key(journey_id, 0),
            )
        )
    url = harness.herald.engine.url
    worker = create_engine(url)
    # A router whose scans follow the heap, where the first journey's row now
    # comes after the second's (an update writes a new row version).
    heap_order = create_engine(url, connect_args={"options": "-c enable_indexscan=off"})
    router = EventRouter(sessions=sessionmaker(heap_order), clock=harness.clock)
    routed: list[int] = []
    errors: list[BaseException] = []

    def route() -> None:
        try:
            routed.append(router.route_batch())
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    try:
        with worker.begin() as connection:
            bump = text("UPDATE journeys SET updated_at = updated_at WHERE id = :id")
            connection.execute(bump, {"id": first})
        with worker.connect() as connection:
            # A journey worker writing its batch back: up by id, first row now.
            transaction = connection.begin()
            connection.execute(text("SET LOCAL lock_timeout = '5s'"))
            connection.execute(bump, {"id": first})
            thread = threading.Thread(target=route)
            thread.start()
            thread.join(timeout=0.5)  # the router is now waiting for the first row
            connection.execute(bump, {"id": second})
            transaction.commit()
        thread.join(timeout=10)
    finally:
        worker.dispose()
        heap_order.dispose()
    assert errors == []
    assert routed == [2]


def test_batches_add_to_the_shared_counters_last(harness: EngineHarness) -> None:
    """The counter rows every batch updates are the last lock a batch takes.

    Taken earlier, a batch holding them could wait for a journey the router
    holds while another batch, holding journeys since its claim, waits for
    the counters: the crash test saw that cycle as deadlocks.
    """
    transactions: list[list[str]] = [[]]

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        transactions[-1].append(" ".join(statement.split()[:3]).upper())

    def commit(_conn: object) -> None:
        transactions.append([])

    engine = harness.herald.engine
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", commit)
    try:
        harness.launch(CSV, reminder_journey(follow_up_days=None))
        harness.settle()
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "commit", commit)
    batches = [t for t in transactions if any("CAMPAIGN_COUNTERS" in s for s in t)]
    assert batches
    for statements in batches:
        last = max(i for i, s in enumerate(statements) if "CAMPAIGN_COUNTERS" in s)
        after = [s for s in statements[last + 1 :] if not s.startswith("SELECT")]
        # Only the campaign's own row (completion) and the integration's health
        # row follow, always in that order, so no two batches wait on each other.
        allowed = ("UPDATE CAMPAIGNS ", "UPDATE INTEGRATIONS ")
        assert all(s.startswith(allowed) for s in after), statements[last:]
