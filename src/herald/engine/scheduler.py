"""Starts scheduled campaigns when their time comes, and finishes running ones.

A scheduled start that passed while no worker was running is started by
the first worker that comes back: the query is "start time is past", not
"start time is now".
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from herald.clock import Clock
from herald.domain.campaign import CampaignStatus
from herald.engine.completion import complete_finished_campaigns
from herald.engine.launch import start_campaign
from herald.engine.worker import Worker
from herald.store.campaigns import CampaignRow

logger = logging.getLogger(__name__)


class Scheduler(Worker):
    name = "scheduler"
    idle_seconds = 1.0

    def __init__(self, *, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def run_once(self) -> int:
        started = await asyncio.to_thread(self.start_due_campaigns)
        await asyncio.to_thread(self.finish_campaigns)
        return started

    def start_due_campaigns(self) -> int:
        now = self._clock.now()
        with self._sessions() as session, session.begin():
            due = session.scalars(
                select(CampaignRow.id)
                .where(
                    CampaignRow.status == CampaignStatus.SCHEDULED.value,
                    CampaignRow.start_at <= now,
                )
                .order_by(CampaignRow.start_at)
                .limit(10)
                .with_for_update(skip_locked=True)
            ).all()
            for campaign_id in due:
                count = start_campaign(session, campaign_id, now)
                logger.info("started scheduled campaign %s with %d contacts", campaign_id, count)
            return len(due)

    def finish_campaigns(self) -> list[int]:
        """A safety net: the journey worker completes campaigns as outcomes arrive."""
        now = self._clock.now()
        with self._sessions() as session, session.begin():
            running = session.scalars(
                select(CampaignRow.id).where(
                    CampaignRow.status.in_(
                        [CampaignStatus.RUNNING.value, CampaignStatus.PAUSED.value]
                    )
                )
            ).all()
            return complete_finished_campaigns(session, running, now)
