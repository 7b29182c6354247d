"""Starting a campaign: one journey row per contact, in one statement.

``INSERT ... SELECT`` from the audience's contacts: a million journeys are
created by the database without a row passing through Python. Each starts
``pending`` and due now, so workers pick them up in batches and apply the
machine's ``Launch``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, func, insert, literal, select, update
from sqlalchemy.orm import Session

from herald.domain.campaign import CampaignAction, CampaignStatus, next_status
from herald.domain.journey_state import JourneyState
from herald.errors import ConflictError, NotFoundError
from herald.store.audiences import CONTACTS
from herald.store.campaigns import CampaignRow
from herald.store.journeys import JOURNEYS
from herald.store.statistics import refresh_statistics


def start_campaign(session: Session, campaign_id: int, now: datetime) -> int:
    """Create the journeys of a draft or scheduled campaign and mark it running.

    Returns the number of contacts. The campaign row is locked first, so two
    processes starting the same campaign cannot both create journeys.
    """
    row = session.scalars(
        select(CampaignRow).where(CampaignRow.id == campaign_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"campaign {campaign_id} does not exist", field="campaign_id")
    status = next_status(CampaignStatus(row.status), CampaignAction.LAUNCH)
    if row.audience_id is None:
        raise ConflictError(f"campaign {campaign_id} has no audience", field="audience_id")
    initial: dict[str, Any] = JourneyState().to_dict()
    contacts = select(
        literal(campaign_id),
        CONTACTS.c.id,
        CONTACTS.c.phone,
        CONTACTS.c.email,
        func.lower(CONTACTS.c.email),
        literal(initial, JSON),
        literal("pending"),
        literal(now, JOURNEYS.c.due_at.type),
        literal(now, JOURNEYS.c.updated_at.type),
    ).where(CONTACTS.c.audience_id == row.audience_id)
    session.execute(
        insert(JOURNEYS).from_select(
            [
                "campaign_id",
                "contact_id",
                "phone",
                "email",
                "email_key",
                "state",
                "phase",
                "due_at",
                "updated_at",
            ],
            contacts,
        )
    )
    # Counted, not taken from rowcount: drivers disagree on INSERT ... SELECT.
    count = session.scalar(
        select(func.count()).select_from(JOURNEYS).where(JOURNEYS.c.campaign_id == campaign_id)
    )
    assert count is not None
    # The running campaign's pages are planned from these: make them see its size.
    refresh_statistics(session, JOURNEYS, CONTACTS)
    session.execute(
        update(CampaignRow)
        .where(CampaignRow.id == campaign_id)
        .values(
            status=status.value,
            contact_count=count,
            has_started=True,
            launched_at=now,
            updated_at=now,
        )
    )
    return count
