"""``/api/v1/campaigns/{id}/...``: progress, contacts with their journey state, message log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from herald.domain.channels import Channel
from herald.domain.journey_state import Outcome, Phase
from herald.services import campaign_activity as activity
from herald.web.api import API_PREFIX
from herald.web.api.campaigns import CampaignOut
from herald.web.api.paging import Cursor, IdQuery, Limit, ResourceId, int_cursor, next_int_cursor
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(prefix=f"{API_PREFIX}/campaigns", tags=["campaign activity"])


class ProgressOut(BaseModel):
    campaign: CampaignOut
    contacts: int
    completed: int = Field(description="Contacts with an outcome.")
    outcomes: dict[str, int] = Field(description="Contacts per outcome (replied, delivered, ...).")
    messages_by_channel: dict[str, int]
    error_codes: dict[str, int] = Field(description="Provider error codes and how often.")


class ContactJourneyOut(BaseModel):
    journey_id: int
    contact_id: int
    phone: str | None
    email: str | None
    phase: Phase = Field(description="Where the contact is in the journey.")
    outcome: Outcome | None
    step: int | None = Field(description="The plan step being worked on (0: primary).")
    steps: list[str] = Field(description="Each step's status, by index.")
    next_action_at: datetime | None
    last_sent_at: datetime | None
    last_delivered_at: datetime | None
    updated_at: datetime


class ContactJourneyPageOut(BaseModel):
    items: list[ContactJourneyOut]
    next_cursor: str | None


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    step: int | None
    channel: str | None
    error_code: str | None
    detail: str | None


class TimelineOut(BaseModel):
    items: list[TimelineEntryOut]


class MessageOut(BaseModel):
    id: int
    journey_id: int
    step: int
    attempt: int
    channel: str
    integration_id: int
    to_address: str
    status: str
    provider_message_id: str | None
    error_code: str | None
    error_title: str | None
    preview: str | None
    created_at: datetime
    sent_at: datetime | None
    status_at: datetime | None


class MessagePageOut(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


@router.get("/{campaign_id}/progress", response_model=ProgressOut)
def progress(campaign_id: ResourceId, herald: HeraldDep, db: SessionDep) -> ProgressOut:
    counted = herald.campaigns.progress(db, campaign_id)
    return ProgressOut(
        campaign=CampaignOut.of(counted.campaign),
        contacts=counted.campaign.contact_count,
        completed=counted.completed,
        outcomes=counted.outcomes,
        messages_by_channel=counted.messages_by_channel,
        error_codes=counted.error_codes,
    )


@router.get("/{campaign_id}/contacts", response_model=ContactJourneyPageOut)
def contacts(
    campaign_id: ResourceId,
    db: SessionDep,
    phase: Phase | None = None,
    outcome: Outcome | None = None,
    address: Annotated[
        str | None, Query(max_length=320, description="Exact phone (E.164) or email.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ContactJourneyPageOut:
    """Each contact of a launched campaign with its journey state."""
    where = activity.JourneyFilter(
        phase=phase.value if phase else None,
        outcome=outcome.value if outcome else None,
        address=address,
    )
    after = int_cursor(cursor) or 0
    rows = activity.list_contact_journeys(db, campaign_id, where, after_id=after, limit=limit + 1)
    last = rows[limit - 1].journey_id if len(rows) > limit else None
    return ContactJourneyPageOut(
        items=[ContactJourneyOut.model_validate(row, from_attributes=True) for row in rows[:limit]],
        next_cursor=next_int_cursor(rows, limit, last),
    )


@router.get("/{campaign_id}/contacts/{journey_id}/timeline", response_model=TimelineOut)
def timeline(campaign_id: ResourceId, journey_id: ResourceId, db: SessionDep) -> TimelineOut:
    """Every move of one contact's journey, oldest first."""
    entries = activity.contact_timeline(db, campaign_id, journey_id)
    return TimelineOut(
        items=[TimelineEntryOut.model_validate(entry, from_attributes=True) for entry in entries]
    )


@router.get("/{campaign_id}/messages", response_model=MessagePageOut)
def messages(
    campaign_id: ResourceId,
    db: SessionDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    channel: Channel | None = None,
    step: Annotated[int | None, Query(ge=0, le=100)] = None,
    error_code: Annotated[str | None, Query(max_length=64)] = None,
    journey_id: IdQuery = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> MessagePageOut:
    """The message log: every send with its status and provider error, oldest first."""
    where = activity.MessageFilter(
        status=status,
        channel=channel.value if channel else None,
        step=step,
        error_code=error_code,
        journey_id=journey_id,
    )
    after = int_cursor(cursor) or 0
    rows = activity.list_messages(db, campaign_id, where, after_id=after, limit=limit + 1)
    last = rows[limit - 1].id if len(rows) > limit else None
    return MessagePageOut(
        items=[MessageOut.model_validate(row, from_attributes=True) for row in rows[:limit]],
        next_cursor=next_int_cursor(rows, limit, last),
    )
