"""A Herald with its workers driven step by step, for engine tests."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from herald.channels.base import ChannelEvent, SendResult
from herald.domain.channels import IntegrationKind
from herald.engine.clients import ClientEntry, ClientPool
from herald.engine.dispatch import Dispatcher
from herald.engine.journeys import JourneyWorker
from herald.engine.rate_limit import DatabaseRateLimiter
from herald.engine.router import EventRouter, InboundHook
from herald.engine.scheduler import Scheduler
from herald.services.audiences import import_audience
from herald.services.campaigns import CampaignServices
from herald.services.container import Herald
from herald.services.webhooks import record_events
from herald.settings import Settings
from herald.store.integrations import IntegrationRow
from herald.testing import FakeClock, InMemoryChannel

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

WHATSAPP = {
    "graph_base_url": "http://127.0.0.1:9",
    "phone_number_id": "106540352242922",
    "waba_id": "102290129340398",
    "access_token": "test-access-token-abcdef",
    "app_secret": "test-app-secret-abcdef-123456",
    "webhook_verify_token": "test-verify-token-abcdef",
    "rate_limit_per_second": 1000,
}
INFOBIP = {
    "base_url": "http://127.0.0.1:9",
    "api_key": "test-infobip-key-abcdef",
    "sender": "Herald",
    "webhook_secret": "test-infobip-secret-abcdef",
    "rate_limit_per_second": 1000,
}


def template_step(name: str = "clinic-whatsapp") -> dict[str, Any]:
    return {
        "integration": {"name": name, "kind": "whatsapp"},
        "content": {
            "type": "whatsapp_template",
            "name": "appointment_reminder",
            "language": "en",
            "body": [{"column": "name", "default": "there"}, {"column": "appointment_date"}],
        },
    }


def sms_step(text: str = "Hi {{name|there}}, see you on {{appointment_date}}.") -> dict[str, Any]:
    return {
        "integration": {"name": "clinic-sms", "kind": "infobip_sms"},
        "content": {"type": "sms", "text": text},
    }


def reminder_journey(*, follow_up_days: int | None = 2) -> dict[str, Any]:
    journey: dict[str, Any] = {"primary": template_step(), "fallbacks": [sms_step()]}
    if follow_up_days is not None:
        journey["follow_up"] = sms_step("Still coming, {{name|there}}?") | {
            "delay_days": follow_up_days
        }
    return journey


@dataclass
class EngineHarness:
    herald: Herald
    clock: FakeClock
    channels: dict[IntegrationKind, InMemoryChannel] = field(default_factory=dict)
    on_inbound: InboundHook | None = None

    def __post_init__(self) -> None:
        self.campaigns = CampaignServices(self.clock)
        for kind in IntegrationKind:
            self.channels.setdefault(kind, InMemoryChannel(kind))

    @classmethod
    def create(cls, database_url: str, tmp_path: Path, **kwargs: Any) -> EngineHarness:
        clock = FakeClock(START)
        settings = Settings(database_url=database_url, data_dir=tmp_path)
        harness = cls(Herald.create(settings, clock), clock, **kwargs)
        with harness.herald.sessions() as session:
            harness.herald.integrations.create(
                session, name="clinic-whatsapp", kind="whatsapp", settings=WHATSAPP
            )
            harness.herald.integrations.create(
                session, name="clinic-sms", kind="infobip_sms", settings=INFOBIP
            )
        return harness

    def script(self, kind: IntegrationKind, address: str, *results: SendResult) -> None:
        self.channels[kind].script[address] = list(results)

    def import_audience(self, csv_text: str) -> int:
        imported = import_audience(
            self.herald.engine,
            io.BytesIO(csv_text.encode()),
            name="patients",
            filename="patients.csv",
            clock=self.clock,
            default_region="US",
        )
        return int(imported.audience.id)

    def launch(self, csv_text: str, journey: dict[str, Any] | None = None) -> int:
        audience_id = self.import_audience(csv_text)
        with self.herald.sessions() as session:
            view = self.campaigns.create_draft(
                session,
                name="Reminders",
                audience_id=audience_id,
                journey=journey or reminder_journey(),
            )
            self.campaigns.launch(session, view.id)
        return int(view.id)

    def _build_client(self, integration_id: int) -> ClientEntry:
        with self.herald.sessions() as session:
            row = session.get(IntegrationRow, integration_id)
            assert row is not None
            return ClientEntry(
                client=self.channels[IntegrationKind(row.kind)],
                rate_per_second=row.rate_limit_per_second,
                is_active=row.is_active,
                health=row.health,
                updated_at=row.updated_at,
            )

    def workers(self, owner: str = "test-worker") -> tuple[JourneyWorker, EventRouter, Scheduler]:
        sessions = self.herald.sessions
        dispatcher = Dispatcher(
            ClientPool(self._build_client), DatabaseRateLimiter(sessions, self.clock)
        )
        journeys = JourneyWorker(
            sessions=sessions, clock=self.clock, dispatcher=dispatcher, owner=owner
        )
        router = EventRouter(sessions=sessions, clock=self.clock, on_inbound=self.on_inbound)
        return journeys, router, Scheduler(sessions=sessions, clock=self.clock)

    def settle(self, max_rounds: int = 50) -> None:
        """Run router, scheduler and journey worker until none has work left."""
        journeys, router, scheduler = self.workers()

        async def run() -> None:
            for _ in range(max_rounds):
                done = await router.run_once() + await scheduler.run_once()
                done += await journeys.run_once()
                if done == 0:
                    return
            raise AssertionError("the engine did not settle")

        asyncio.run(run())

    def deliver(self, *events: ChannelEvent) -> None:
        with self.herald.sessions() as session:
            record_events(session, list(events), self.clock.now())

    def query(self, statement: Any) -> list[Any]:
        with self.herald.sessions() as session:
            return list(session.execute(statement).all())

    def journey_ids(self, campaign_id: int) -> list[int]:
        from herald.store.journeys import JOURNEYS

        rows = self.query(
            select(JOURNEYS.c.id)
            .where(JOURNEYS.c.campaign_id == campaign_id)
            .order_by(JOURNEYS.c.id)
        )
        return [row.id for row in rows]

    def outcomes(self, campaign_id: int) -> dict[str, int]:
        with self.herald.sessions() as session:
            return self.campaigns.progress(session, campaign_id).outcomes

    def status(self, campaign_id: int) -> str:
        with self.herald.sessions() as session:
            return self.campaigns.get(session, campaign_id).status.value

    def close(self) -> None:
        self.herald.close()


Hook = Callable[..., Any]
