"""Marking campaigns sent once every contact has an outcome.

Decided from the outcome counters (kept incrementally by the workers) and
the number of journeys launched, so it costs one small query per campaign,
whatever the audience size.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from herald.domain.campaign import TRANSITIONS, CampaignAction, CampaignStatus
from herald.domain.campaign_progress import is_campaign_sent
from herald.domain.journey_state import Outcome
from herald.store.campaigns import CampaignRow, read_counters

COMPLETABLE = [
    status.value for status in CampaignStatus if (status, CampaignAction.COMPLETE) in TRANSITIONS
]


def complete_finished_campaigns(
    session: Session, campaign_ids: Iterable[int], now: datetime
) -> list[int]:
    """Set ``sent`` on each campaign whose contacts all have an outcome; return them."""
    finished = []
    for campaign_id in sorted(set(campaign_ids)):
        row = session.execute(
            select(CampaignRow.contact_count, CampaignRow.status).where(
                CampaignRow.id == campaign_id
            )
        ).one_or_none()
        if row is None or row.status not in COMPLETABLE:
            continue
        counters = read_counters(session, campaign_id, prefix="outcome:")
        outcomes = {outcome: counters.get(f"outcome:{outcome.value}", 0) for outcome in Outcome}
        if is_campaign_sent(row.contact_count, outcomes):
            session.execute(
                update(CampaignRow)
                .where(CampaignRow.id == campaign_id, CampaignRow.status.in_(COMPLETABLE))
                .values(status=CampaignStatus.SENT.value, completed_at=now, updated_at=now)
            )
            finished.append(campaign_id)
    return finished
