"""A signed-in browser client on a Herald whose engine tests drive step by step.

For the campaign detail and conversation page tests: campaigns are launched
and moved through their journeys by :class:`EngineHarness` (in-memory
channels, statuses fed through the inbox), and the pages are read through
Starlette's TestClient as a signed-in user would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from herald.channels.base import DeliveryStatus, DeliveryUpdate, ProviderFailure
from herald.domain.channels import IntegrationKind
from herald.engine.keys import message_key
from herald.services.runtime import seed_default_agent
from herald.testing import FakeClock
from herald.web.app import create_app
from tests.auth_support import ADMIN_EMAIL, ADMIN_PASSWORD, add_standard_users, log_in, make_herald
from tests.support.conversations import EMAIL, ConversationHarness
from tests.support.engine import INFOBIP, START, WHATSAPP, EngineHarness, reminder_journey

PAGE = {"accept": "text/html,application/xhtml+xml"}
CSV = (
    "email,phone,name,appointment_date\n"
    "alex@example.com,+12025550101,Alex,2025-03-10\n"
    'jamie@example.net,+442071838750,=HYPERLINK("http://evil.example"),2025-03-11\n'
    "priya@example.in,,Priya,2025-03-12\n"
)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class DetailWeb:
    harness: EngineHarness
    client: TestClient

    @property
    def clock(self) -> FakeClock:
        return self.harness.clock

    def anonymous(self) -> TestClient:
        return TestClient(self.client.app)

    def csrf(self, page: str = "/account") -> str:
        match = _CSRF.search(self.client.get(page, headers=PAGE).text)
        assert match, f"no CSRF field on {page}"
        return match.group(1)

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
        fields = {"csrf_token": self.csrf()} | (data or {})
        return self.client.post(path, data=fields, headers=PAGE, follow_redirects=False, **kwargs)

    def launch(self, *, follow_up_days: int | None = None, csv: str = CSV) -> int:
        return self.harness.launch(csv, reminder_journey(follow_up_days=follow_up_days))

    def status(
        self,
        journey_id: int,
        step: int,
        status: DeliveryStatus,
        *,
        kind: IntegrationKind = IntegrationKind.WHATSAPP,
        code: str | None = None,
    ) -> None:
        failure = None
        if code is not None:
            failure = ProviderFailure(provider=kind, code=code, title="Message undeliverable")
        self.harness.deliver(
            DeliveryUpdate(
                provider=kind,
                provider_message_id=f"pm-{journey_id}-{step}-{status}",
                status=status,
                occurred_at=self.clock.now(),
                failure=failure,
                correlation_key=message_key(journey_id, step),
            )
        )


def build_detail_web(database_url: str, tmp_path: Path) -> Iterator[DetailWeb]:
    clock = FakeClock(START)
    harness = EngineHarness(make_herald(database_url, tmp_path, clock), clock)
    yield from _serve(harness)


def build_conversation_web(database_url: str, tmp_path: Path) -> Iterator[ConversationWeb]:
    """The same, with the conversation hooks, the reply worker and the built-in agent."""
    clock = FakeClock(START)
    harness = ConversationHarness(make_herald(database_url, tmp_path, clock), clock)
    seed_default_agent(harness.herald)
    with harness.herald.sessions() as session:
        harness.herald.integrations.create(
            session, name="clinic-email", kind="email_smtp", settings=EMAIL
        )
    for web in _serve(harness):
        yield ConversationWeb(harness, web.client)


def _serve(harness: EngineHarness) -> Iterator[DetailWeb]:
    with harness.herald.sessions() as session:
        harness.herald.integrations.create(
            session, name="clinic-whatsapp", kind="whatsapp", settings=WHATSAPP
        )
        harness.herald.integrations.create(
            session, name="clinic-sms", kind="infobip_sms", settings=INFOBIP
        )
    add_standard_users(harness.herald)
    with TestClient(create_app(harness.herald)) as client:
        response = log_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert response.status_code == 303
        yield DetailWeb(harness, client)
    harness.close()


@dataclass
class ConversationWeb(DetailWeb):
    harness: ConversationHarness


def read_events(
    lines: Iterator[str], *, until: str = "end", limit: int = 200
) -> list[tuple[str, str]]:
    """Server-sent events as (name, data) from a streamed response, up to ``until``."""
    events: list[tuple[str, str]] = []
    name, data = "message", ""
    for _, line in zip(range(limit * 4), lines, strict=False):
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and data:
            events.append((name, data))
            if name == until:
                return events
            name, data = "message", ""
    return events
