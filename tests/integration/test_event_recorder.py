"""Group commit of provider events: many concurrent webhooks, few transactions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from herald.channels.base import DeliveryStatus, DeliveryUpdate
from herald.domain.channels import IntegrationKind
from herald.services.event_recorder import GroupCommitRecorder
from herald.services.webhooks import IngestResult
from herald.store.database import create_session_factory
from herald.store.inbox import ProviderEventRow
from herald.testing import FakeClock

AT = datetime(2025, 6, 3, 16, 0, tzinfo=UTC)


def _delivered(n: int) -> DeliveryUpdate:
    return DeliveryUpdate(IntegrationKind.WHATSAPP, f"wamid.{n}", DeliveryStatus.DELIVERED, AT)


def test_concurrent_requests_share_commits_and_each_gets_its_own_result(engine: Engine) -> None:
    sessions = create_session_factory(engine)
    recorder = GroupCommitRecorder(sessions, FakeClock(AT))
    results: dict[int, IngestResult] = {}
    start = threading.Barrier(40)

    def webhook(n: int) -> None:
        # Requests 0..29 carry a new event; 30..39 repeat the event of n - 30.
        event = _delivered(n if n < 30 else n - 30)
        start.wait()
        results[n] = recorder.record([event])

    threads = [threading.Thread(target=webhook, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(ProviderEventRow))
    assert stored == 30
    assert sum(result.new for result in results.values()) == 30
    assert sum(result.duplicates for result in results.values()) == 10
    assert recorder.batches < 40  # requests were grouped into fewer commits


def test_a_failed_commit_reaches_every_waiting_request(engine: Engine) -> None:
    healthy = create_session_factory(engine)
    attempts = 0

    def flaky_sessions() -> Session:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise OperationalError("BEGIN", {}, ConnectionError("database restarting"))
        return healthy()

    recorder = GroupCommitRecorder(flaky_sessions, FakeClock(AT))  # type: ignore[arg-type]
    with pytest.raises(OperationalError, match="database restarting"):
        recorder.record([_delivered(1)])
    # Nothing was stored, and the recorder keeps working: the provider's retry succeeds.
    assert recorder.record([_delivered(1)]).new == 1
    with healthy() as session:
        assert session.scalar(select(func.count()).select_from(ProviderEventRow)) == 1
