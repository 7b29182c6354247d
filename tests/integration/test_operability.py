"""/metrics and /readyz on a real database, after the engine has done real work.

The engine runs with in-memory channels (tests.support.engine); the figures
/metrics reports must equal what the database says happened, and /readyz
must name the check that fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from herald.channels.base import (
    DeliveryStatus,
    DeliveryUpdate,
    ProviderFailure,
    SendAccepted,
    SendRetryable,
    SendTerminal,
)
from herald.domain.audit import Actor
from herald.domain.channels import IntegrationKind
from herald.engine.keys import message_key
from herald.engine.worker import WorkerRunner
from herald.store.integrations import IntegrationRow
from herald.store.journeys import JOURNEYS, MESSAGES
from herald.web.app import create_app
from tests.support.engine import EngineHarness, reminder_journey

WA = IntegrationKind.WHATSAPP
SMS = IntegrationKind.INFOBIP_SMS
CSV = (
    "email,phone,name,appointment_date\n"
    "alex@example.com,+12025550101,Alex,2025-03-10\n"
    "jamie@example.net,+442071838750,Jamie,2025-03-11\n"
    "sam@example.org,+12025550123,Sam,2025-03-12\n"
)
METRICS_TOKEN = "metrics-token-0123456789abcdefghijkl"


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[EngineHarness]:
    harness = EngineHarness.create(database_url, tmp_path)
    harness.herald.settings = harness.herald.settings.model_copy(
        update={"metrics_token": SecretStr(METRICS_TOKEN)}
    )
    yield harness
    harness.close()


@pytest.fixture
def client(harness: EngineHarness) -> Iterator[TestClient]:
    with TestClient(create_app(harness.herald)) as test_client:
        yield test_client


def _samples(text: str) -> dict[str, float]:
    """``name{labels}`` -> value, for every sample line of the exposition."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def _scrape(client: TestClient) -> dict[str, float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200, answer.text
    return _samples(answer.text)


def test_metrics_refuses_anonymous_and_wrong_tokens(
    client: TestClient, harness: EngineHarness
) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all-xx"})
    assert wrong.status_code == 401
    with harness.herald.sessions() as session:
        key = harness.herald.api_keys.create_key(
            session, name="grafana", scope="read", actor=Actor.cli("test")
        )
    by_key = client.get("/metrics", headers={"Authorization": f"Bearer {key.token}"})
    assert by_key.status_code == 200
    assert "herald_sends_total" in by_key.text


def test_metrics_count_what_the_engine_did(client: TestClient, harness: EngineHarness) -> None:
    # Jamie's WhatsApp is refused for good (fallback to SMS); Sam is throttled once.
    harness.script(WA, "+442071838750", SendTerminal(_failure(WA, "131026")))
    harness.script(
        WA, "+12025550123", SendRetryable(_failure(WA, "130429", 429)), SendAccepted("wa-sam")
    )
    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    first = _scrape(client)
    assert first['herald_sends_total{channel="whatsapp"}'] == 1  # Alex; Sam waits to retry
    assert first['herald_sends_total{channel="sms"}'] == 1  # Jamie's fallback
    assert first["herald_fallbacks_total"] == 1
    assert first['herald_send_failures_total{code="131026",provider="whatsapp"}'] == 1
    assert first['herald_send_failures_total{code="130429",provider="whatsapp"}'] == 1
    # Sam's retry is due later: one journey waits, and the queue is not lagging yet.
    assert first["herald_queue_lag_seconds"] == 0
    harness.clock.advance(timedelta(hours=1))
    lagging = _scrape(client)
    assert lagging["herald_queue_due_journeys"] == 1
    assert lagging["herald_queue_lag_seconds"] > 0
    harness.settle()
    journeys = harness.journey_ids(campaign)
    for journey_id, step, kind in (
        (journeys[0], 0, WA),
        (journeys[1], 1, SMS),
        (journeys[2], 0, WA),
    ):
        harness.deliver(
            DeliveryUpdate(
                provider=kind,
                provider_message_id=f"pm-{journey_id}",
                status=DeliveryStatus.DELIVERED,
                occurred_at=harness.clock.now(),
                correlation_key=message_key(journey_id, step),
            )
        )
    assert _scrape(client)["herald_inbox_unrouted_events"] == 3
    harness.settle()
    final = _scrape(client)
    assert final["herald_deliveries_total"] == 3
    assert final['herald_journey_outcomes_total{outcome="delivered"}'] == 3
    assert final['herald_campaigns{status="sent"}'] == 1
    assert final["herald_queue_due_journeys"] == 0
    assert final["herald_inbox_unrouted_events"] == 0
    # Every message row but the refused one is a send that left Herald.
    sent = harness.query(
        select(func.count()).select_from(MESSAGES).where(MESSAGES.c.status != "rejected")
    )[0][0]
    assert (
        final['herald_sends_total{channel="whatsapp"}'] + final['herald_sends_total{channel="sms"}']
        == sent
    )


def test_webhook_requests_are_counted_by_path_and_status(client: TestClient) -> None:
    client.post("/webhooks/whatsapp", content=b"{}")  # unsigned: refused
    client.post("/webhooks/no-such-provider", content=b"{}")
    samples = _scrape(client)
    assert samples['herald_webhook_requests_total{path="/webhooks/whatsapp",status="401"}'] == 1
    assert samples['herald_webhook_requests_total{path="other",status="404"}'] == 1
    assert samples['herald_webhook_duration_seconds_count{path="/webhooks/whatsapp"}'] == 1


def test_readiness_names_the_failed_check(client: TestClient, harness: EngineHarness) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["failed"] == ["workers"]
    assert "herald worker" in answer.json()["checks"]["workers"]

    runner = WorkerRunner([], sessions=harness.herald.sessions, clock=harness.clock)
    runner._beat()  # what a running worker does every few seconds
    assert client.get("/readyz").status_code == 200
    assert _scrape(client)["herald_workers_alive"] == 1

    with harness.herald.sessions() as session, session.begin():
        row = session.scalars(
            select(IntegrationRow).where(IntegrationRow.name == "clinic-sms")
        ).one()
        row.health, row.health_reason = "unhealthy", "provider unavailable: HTTP 503 × 12"
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["failed"] == ["integrations"]
    assert (
        answer.json()["checks"]["integrations"] == "clinic-sms: provider unavailable: HTTP 503 × 12"
    )
    assert client.get("/readyz", params={"check": "database"}).status_code == 200
    assert client.get("/readyz", params={"check": "disk"}).status_code == 422

    harness.clock.advance(timedelta(minutes=2))  # the heartbeat grows stale
    assert "workers" in client.get("/readyz").json()["failed"]


def test_outage_marks_the_integration_and_the_first_success_clears_it(
    harness: EngineHarness,
) -> None:
    unavailable = SendRetryable(_failure(WA, "503", 503))
    for phone in ("+12025550101", "+442071838750", "+12025550123"):
        harness.script(WA, phone, unavailable, SendAccepted(f"wa-{phone}"))
    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    with harness.herald.sessions() as session:
        view = harness.herald.integrations.find_by_name(session, "clinic-whatsapp")
    assert view is not None and view.health == "unhealthy"
    assert view.health_reason is not None and "HTTP 503" in view.health_reason
    # Nobody was failed for the outage: every journey waits for its retry.
    phases = harness.query(select(JOURNEYS.c.outcome).where(JOURNEYS.c.campaign_id == campaign))
    assert all(outcome is None for (outcome,) in phases)
    harness.clock.advance(timedelta(hours=1))
    harness.settle()
    with harness.herald.sessions() as session:
        view = harness.herald.integrations.find_by_name(session, "clinic-whatsapp")
    assert view is not None and view.health == "healthy" and view.health_reason is None


def _failure(kind: IntegrationKind, code: str, http_status: int | None = None) -> ProviderFailure:
    return ProviderFailure(kind, code, f"error {code}", http_status=http_status)
