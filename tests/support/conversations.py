"""A Herald whose workers keep conversations and answer replies, driven step by step.

Extends the engine harness with the reply worker and the conversation hooks
exactly as :func:`herald.services.runtime.build_runner` wires them; channels
stay in memory, agents are real (rules, llm, webhook).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from herald.channels.base import InboundMessage
from herald.domain.agents import AgentKind
from herald.domain.channels import IntegrationKind
from herald.engine.clients import ClientPool
from herald.engine.dispatch import Dispatcher
from herald.engine.journeys import JourneyWorker
from herald.engine.rate_limit import DatabaseRateLimiter
from herald.engine.replies import ReplyWorker
from herald.engine.router import EventRouter
from herald.engine.scheduler import Scheduler
from herald.services import agents
from herald.services.conversations import ConversationDetail, ConversationServices
from herald.services.runtime import ConversationHooks, seed_default_agent
from tests.support.engine import EngineHarness

T = TypeVar("T")
WHATSAPP_NUMBER_ID = "106540352242922"
EMAIL = {
    "host": "127.0.0.1",
    "port": 2525,
    "security": "none",
    "from_address": "clinic@mail.example.test",
    "reply_to_address": "reply@inbound.example.test",
    "rate_limit_per_second": 1000,
}
TWILIO = {
    "account_sid": "AC" + "0123456789abcdef" * 2,
    "auth_token": "test-twilio-auth-token-0123",
    "caller_id": "+15550100000",
    "public_base_url": "https://herald.example.test",
    "rate_limit_per_second": 1000,
}


@dataclass
class ConversationHarness(EngineHarness):
    environ: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.hooks = ConversationHooks(self.herald)
        self.on_inbound = self.hooks.on_inbound
        self.conversations = ConversationServices(self.clock)
        self._inbound_count = 0

    @classmethod
    def create(cls, database_url: str, tmp_path: Path, **kwargs: Any) -> ConversationHarness:
        harness = super().create(database_url, tmp_path, **kwargs)
        assert isinstance(harness, ConversationHarness)
        seed_default_agent(harness.herald)
        with harness.herald.sessions() as session:
            integrations = harness.herald.integrations
            integrations.create(session, name="clinic-email", kind="email_smtp", settings=EMAIL)
            integrations.create(session, name="clinic-voice", kind="twilio_voice", settings=TWILIO)
        return harness

    def workers(self, owner: str = "test-worker") -> tuple[JourneyWorker, EventRouter, Scheduler]:
        sessions = self.herald.sessions
        journeys = JourneyWorker(
            sessions=sessions,
            clock=self.clock,
            dispatcher=self.dispatcher(),
            owner=owner,
            on_sends=self.hooks.on_sends,
        )
        router = EventRouter(
            sessions=sessions,
            clock=self.clock,
            on_inbound=self.hooks.on_inbound,
            on_unmatched_statuses=self.hooks.on_statuses,
        )
        return journeys, router, Scheduler(sessions=sessions, clock=self.clock)

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(
            ClientPool(self._build_client), DatabaseRateLimiter(self.herald.sessions, self.clock)
        )

    def reply_worker(
        self, http: aiohttp.ClientSession | None, owner: str = "test-replies"
    ) -> ReplyWorker:
        return ReplyWorker(
            sessions=self.herald.sessions,
            clock=self.clock,
            dispatcher=self.dispatcher(),
            owner=owner,
            load_agent=self.hooks.agent_loader(http, self.environ),
            record_opt_out=self.hooks.record_opt_out,
        )

    def settle(self, max_rounds: int = 50) -> None:
        """Run router, scheduler, journey and reply workers until none has work left."""

        async def run() -> None:
            async with aiohttp.ClientSession() as http:
                journeys, router, scheduler = self.workers()
                replies = self.reply_worker(http)
                for _ in range(max_rounds):
                    done = await router.run_once() + await scheduler.run_once()
                    done += await journeys.run_once() + await replies.run_once()
                    if done == 0:
                        return
            raise AssertionError("the workers did not settle")

        asyncio.run(run())

    def settle_routing(self) -> None:
        """Route what the inbox holds (the router alone)."""
        _journeys, router, _scheduler = self.workers()
        asyncio.run(router.run_once())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run(coroutine)

    # -- builders -------------------------------------------------------------

    def publish_agent(self, name: str, kind: AgentKind, config: dict[str, Any]) -> int:
        with self.herald.sessions() as session, session.begin():
            _info, version = agents.create_agent(
                session, name=name, kind=kind, config=config, clock=self.clock
            )
            return agents.publish_version(session, version.id, self.clock).id

    def launch_campaign(
        self,
        csv_text: str,
        journey: dict[str, Any],
        *,
        name: str = "Reminders",
        extra_tags: tuple[str, ...] = (),
        agent_version_id: int | None = None,
    ) -> int:
        audience_id = self.import_audience(csv_text)
        with self.herald.sessions() as session:
            view = self.campaigns.create_draft(
                session,
                name=name,
                audience_id=audience_id,
                journey=journey,
                extra_tags=extra_tags,
                agent_version_id=agent_version_id,
            )
            self.campaigns.launch(session, view.id)
        return int(view.id)

    def write(
        self,
        sender: str,
        text: str,
        *,
        kind: IntegrationKind = IntegrationKind.WHATSAPP,
        recipient: str = WHATSAPP_NUMBER_ID,
        **extra: Any,
    ) -> InboundMessage:
        """A person writes to us; the message goes in through the inbox like a webhook."""
        self._inbound_count += 1
        message = InboundMessage(
            provider=kind,
            provider_message_id=extra.pop("provider_message_id", f"in-{self._inbound_count}"),
            sender=sender,
            recipient=recipient,
            text=text,
            received_at=self.clock.now(),
            **extra,
        )
        self.deliver(message)
        return message

    def conversation_of(self, address: str, channel: str | None = None) -> ConversationDetail:
        """The only conversation with ``address`` (on ``channel``), with its messages."""
        with self.herald.sessions() as session:
            page = self.conversations.list(session, text=address, channel=channel, limit=200)
            matches = [c for c in page.items if c.address == address]
            assert len(matches) == 1, f"{len(matches)} conversations with {address}"
            return self.conversations.get(session, matches[0].id)

    def texts(self, kind: IntegrationKind, to: str) -> list[str]:
        """What was sent to ``to`` on ``kind``, as plain text."""
        found = []
        for message in self.channels[kind].sent:
            if message.to == to:
                content = message.content
                found.append(getattr(content, "body", None) or getattr(content, "text", ""))
        return found
