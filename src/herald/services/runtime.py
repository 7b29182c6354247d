"""Assembling the background workers of one Herald process.

The journey worker, the event router and the scheduler share one HTTP
session, one client pool and the database-held rate limits. Inbound messages
go through the opt-out keywords (suppression list) while being routed, so a
STOP is honoured by every campaign before any other send.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

import aiohttp
from sqlalchemy.orm import Session

from herald.channels.base import InboundMessage
from herald.clock import Clock, SystemClock
from herald.engine.clients import ClientPool
from herald.engine.dispatch import Dispatcher
from herald.engine.journeys import DEFAULT_BATCH_SIZE, DEFAULT_LEASE, JourneyWorker
from herald.engine.rate_limit import DatabaseRateLimiter
from herald.engine.router import EventRouter, InboundRoute
from herald.engine.scheduler import Scheduler
from herald.engine.worker import WorkerRunner
from herald.services.container import Herald
from herald.services.integrations import client_builder
from herald.services.optout import apply_opt_keywords

DEFAULT_PIPELINES = 4


def worker_owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def build_runner(
    herald: Herald,
    http: aiohttp.ClientSession,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lease: timedelta = DEFAULT_LEASE,
    wall_clock: Clock | None = None,
    pipelines: int = DEFAULT_PIPELINES,
) -> WorkerRunner:
    """Every worker a Herald process runs, ready for ``await runner.run()``.

    ``wall_clock`` drives rate limits: providers count messages per real
    second even when Herald's own clock is compressed (the demo).
    ``pipelines`` journey workers run side by side in this process: while one
    waits for provider answers, another claims the next due journeys, so a
    slow provider does not delay the statuses and timers of everyone else.
    """
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
            name=f"journeys-{index}",
        )
        for index in range(1, pipelines + 1)
    ]

    def on_inbound(session: Session, message: InboundMessage, route: InboundRoute) -> bool:
        outcome = apply_opt_keywords(
            session, message, clock=herald.clock, campaign_id=route.campaign_id
        )
        return outcome.detection.is_opt_out

    router = EventRouter(sessions=herald.sessions, clock=herald.clock, on_inbound=on_inbound)
    scheduler = Scheduler(sessions=herald.sessions, clock=herald.clock)
    return WorkerRunner(
        [*journeys, router, scheduler],
        sessions=herald.sessions,
        clock=herald.clock,
        wakes={"router": [worker.name for worker in journeys]},
    )
