"""Assembling the background workers of one Herald process.

The journey worker, the event router, the reply worker and the scheduler
share one HTTP session, one client pool and the database-held rate limits.
Inbound messages go through the opt-out keywords (suppression list) while
being routed, so a STOP is honoured by every campaign before any other send;
then they are stored in their conversation and queued for its agent.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from sqlalchemy.orm import Session

from herald.agents.base import Agent
from herald.channels.base import DeliveryUpdate, InboundMessage
from herald.clock import Clock, SystemClock, real_time_span
from herald.engine.batch import RecordedSend
from herald.engine.clients import ClientPool
from herald.engine.decisions import AgentOptOut
from herald.engine.dispatch import Dispatcher
from herald.engine.journeys import DEFAULT_BATCH_SIZE, JourneyWorker
from herald.engine.rate_limit import DatabaseRateLimiter
from herald.engine.replies import AgentLoader, ReplyWorker
from herald.engine.router import EventRouter, InboundRoute
from herald.engine.scheduler import Scheduler
from herald.engine.webhook_delivery import WebhookWorker
from herald.engine.worker import WorkerRunner
from herald.errors import ConflictError
from herald.services import agents
from herald.services.container import Herald
from herald.services.conversation_inbound import (
    DefaultAgent,
    InboundRecorder,
    open_campaign_conversations,
    record_reply_statuses,
)
from herald.services.conversation_replies import record_opt_out
from herald.services.integrations import client_builder
from herald.services.optout import apply_opt_keywords

logger = logging.getLogger(__name__)
DEFAULT_PIPELINES = 4


def worker_owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class ConversationHooks:
    """What the workers call to keep conversations: one set per process."""

    herald: Herald
    default_agent: DefaultAgent = field(default_factory=DefaultAgent)

    def __post_init__(self) -> None:
        self._recorder = InboundRecorder(self.herald.clock, self.default_agent)

    def on_sends(self, session: Session, sends: Sequence[RecordedSend]) -> None:
        open_campaign_conversations(session, sends, self.default_agent)

    def on_inbound(self, session: Session, message: InboundMessage, route: InboundRoute) -> bool:
        """Opt-out keywords first, then the conversation; True for an opt-out."""
        outcome = apply_opt_keywords(
            session, message, clock=self.herald.clock, campaign_id=route.campaign_id
        )
        self._recorder.record(session, message, route, outcome)
        return outcome.detection.is_opt_out

    def on_statuses(self, session: Session, updates: Sequence[DeliveryUpdate]) -> set[str]:
        return record_reply_statuses(session, updates, self.herald.clock)

    def record_opt_out(self, session: Session, opt_out: AgentOptOut) -> None:
        record_opt_out(session, opt_out, self.herald.clock)

    def agent_loader(
        self, http: aiohttp.ClientSession | None, environ: Mapping[str, str] | None = None
    ) -> AgentLoader:
        def load(version_id: int) -> Agent:
            with self.herald.sessions() as session:
                return agents.load_agent(
                    session, version_id, clock=self.herald.clock, http=http, environ=environ
                )

        return load


def worker_lease(herald: Herald) -> timedelta:
    """The lease of claimed journeys on Herald's clock.

    Leases are meant in real time (a batch takes as long as it takes,
    whatever the clock says), so under a sped-up clock the lease is stretched
    with it (:func:`herald.clock.real_time_span`); otherwise a demo or test
    clock would expire every lease while its batch is still sending, and
    other workers would take the journeys over and record their sends as
    unknown.
    """
    real = timedelta(seconds=herald.settings.worker_lease_seconds)
    return real_time_span(herald.clock, real)


def seed_default_agent(herald: Herald) -> None:
    """Publish the built-in agent's current version, once per start (a race retries once)."""
    for attempt in (1, 2):
        try:
            with herald.sessions() as session, session.begin():
                agents.ensure_default_agent(session, herald.clock)
            return
        except ConflictError:
            if attempt == 2:
                raise
            logger.info("another process seeded the default agent first; checking again")


def build_runner(
    herald: Herald,
    http: aiohttp.ClientSession,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lease: timedelta | None = None,
    wall_clock: Clock | None = None,
    pipelines: int = DEFAULT_PIPELINES,
) -> WorkerRunner:
    """Every worker a Herald process runs, ready for ``await runner.run()``.

    ``lease`` defaults to :func:`worker_lease`. ``wall_clock`` drives rate limits:
    providers count messages per real second even when Herald's own clock is
    compressed (the demo).
    ``pipelines`` journey workers run side by side in this process: while one
    waits for provider answers, another claims the next due journeys, so a
    slow provider does not delay the statuses and timers of everyone else.
    """
    if lease is None:
        lease = worker_lease(herald)
    seed_default_agent(herald)
    hooks = ConversationHooks(herald)
    pool = ClientPool(client_builder(herald.integrations, herald.sessions, http))
    limiter = DatabaseRateLimiter(herald.sessions, wall_clock or SystemClock())
    dispatcher = Dispatcher(pool, limiter)
    journeys = [
        JourneyWorker(
            sessions=herald.sessions,
            clock=herald.clock,
            dispatcher=dispatcher,
            owner=worker_owner(),
            batch_size=batch_size,
            lease=lease,
            on_sends=hooks.on_sends,
            name=f"journeys-{index}",
        )
        for index in range(1, pipelines + 1)
    ]
    router = EventRouter(
        sessions=herald.sessions,
        clock=herald.clock,
        on_inbound=hooks.on_inbound,
        on_unmatched_statuses=hooks.on_statuses,
    )
    replies = ReplyWorker(
        sessions=herald.sessions,
        clock=herald.clock,
        dispatcher=dispatcher,
        owner=worker_owner(),
        load_agent=hooks.agent_loader(http),
        record_opt_out=hooks.record_opt_out,
        lease=lease,
    )
    scheduler = Scheduler(sessions=herald.sessions, clock=herald.clock)
    webhooks = WebhookWorker(
        sessions=herald.sessions, clock=herald.clock, box=herald.box, http=http
    )
    return WorkerRunner(
        [*journeys, router, replies, scheduler, webhooks],
        sessions=herald.sessions,
        clock=herald.clock,
        # Routed messages make journeys due and may queue work for the agents.
        wakes={"router": [*(worker.name for worker in journeys), replies.name]},
    )
