"""``/api/v1/campaigns/{id}/...``: progress, contacts with their journey, the message log.

The same services as the campaign page's subscriber activity and message
logs (:mod:`herald.services.campaign_activity`,
:mod:`herald.services.message_logs`), so the API and the UI tell one story;
every provider error code comes with the catalog's explanation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from herald.domain.channels import Channel
from herald.domain.error_catalog import ErrorEntry
from herald.services import campaign_activity as activity
from herald.services import message_logs
from herald.store.campaign_activity import MessageRecord
from herald.web.api import API_PREFIX
from herald.web.api.campaigns import CampaignOut
from herald.web.api.paging import Cursor, Limit, ResourceId, int_cursor
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(prefix=f"{API_PREFIX}/campaigns", tags=["campaign activity"])

OutcomeFilter = Annotated[
    str | None,
    Query(
        max_length=20,
        description="An outcome (`replied`, `delivered`, ...) or `in_progress`.",
    ),
]


class ProgressOut(BaseModel):
    campaign: CampaignOut
    contacts: int
    completed: int = Field(description="Contacts with an outcome.")
    outcomes: dict[str, int] = Field(description="Contacts per outcome (replied, delivered, ...).")
    messages_by_channel: dict[str, int] = Field(description="Messages accepted, per channel.")
    error_codes: dict[str, int] = Field(description="Provider error codes and how often.")


class ExplanationOut(BaseModel):
    """What the error catalog says about a provider error code."""

    code: str
    title: str
    explanation: str
    action: str = Field(description="What to do about it.")
    is_retryable: bool
    possible_reasons: list[str]

    @classmethod
    def of(cls, entry: ErrorEntry | None) -> ExplanationOut | None:
        if entry is None:
            return None
        return cls(
            code=entry.code,
            title=entry.title,
            explanation=entry.explanation,
            action=entry.action,
            is_retryable=entry.is_retryable,
            possible_reasons=list(entry.possible_reasons),
        )


class StepStatusOut(BaseModel):
    step: str = Field(description="`Primary`, `Fallback 1`, `Follow-up`.")
    status: str


class ContactOut(BaseModel):
    journey_id: int
    contact_id: int
    row: int | None = Field(description="The contact's row in the audience file.")
    name: str | None
    phone: str | None
    email: str | None
    phase: str = Field(description="Where the contact is in the journey (`done` at the end).")
    outcome: str | None
    steps: list[StepStatusOut] = Field(description="Each step tried so far and its status.")
    updated_at: datetime

    @classmethod
    def of(cls, contact: activity.ContactActivity) -> ContactOut:
        return cls(
            journey_id=contact.journey_id,
            contact_id=contact.contact_id,
            row=contact.row_number,
            name=contact.name,
            phone=contact.phone,
            email=contact.email,
            phase=contact.phase,
            outcome=contact.outcome,
            steps=[StepStatusOut(step=step, status=status) for step, status in contact.steps],
            updated_at=contact.updated_at,
        )


class ContactPageOut(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class MessageOut(BaseModel):
    id: int
    journey_id: int
    step: str = Field(description="The step's label.")
    attempt: int
    channel: str
    integration: str | None
    to_address: str
    status: str
    provider_message_id: str | None
    error_code: str | None
    error_title: str | None
    error_detail: str | None
    explanation: ExplanationOut | None
    preview: str | None
    created_at: datetime
    sent_at: datetime | None
    status_at: datetime | None

    @classmethod
    def of(cls, record: MessageRecord, step: str, explanation: ErrorEntry | None) -> MessageOut:
        return cls(
            id=record.id,
            journey_id=record.journey_id,
            step=step,
            attempt=record.attempt,
            channel=record.channel,
            integration=record.integration_name,
            to_address=record.to_address,
            status=record.status,
            provider_message_id=record.provider_message_id,
            error_code=record.error_code,
            error_title=record.error_title,
            error_detail=record.error_detail,
            explanation=ExplanationOut.of(explanation),
            preview=record.preview,
            created_at=record.created_at,
            sent_at=record.sent_at,
            status_at=record.status_at,
        )


class StepDetailOut(BaseModel):
    index: int
    label: str
    integration: str | None
    channel: str | None
    status: str
    message: MessageOut | None


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    label: str
    step: str | None
    channel: str | None
    provider_message_id: str | None
    error_code: str | None
    detail: str | None
    explanation: ExplanationOut | None


class JourneyOut(BaseModel):
    contact: ContactOut
    fields: dict[str, str] = Field(description="The contact's columns from the audience.")
    steps: list[StepDetailOut]
    timeline: list[TimelineEntryOut] = Field(description="Oldest first.")
    is_timeline_cut: bool = Field(description="More entries exist than are shown.")


class ErrorCountOut(BaseModel):
    code: str
    count: int
    explanation: ExplanationOut | None


class MessagePageOut(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None
    error_codes: list[ErrorCountOut] = Field(description="Every code this campaign met.")


class MessageDetailOut(BaseModel):
    message: MessageOut
    contact: ContactOut
    events: list[TimelineEntryOut] = Field(description="The contact's timeline for this step.")


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


@router.get("/{campaign_id}/contacts", response_model=ContactPageOut)
def contacts(
    campaign_id: ResourceId,
    db: SessionDep,
    q: Annotated[
        str | None,
        Query(max_length=activity.MAX_SEARCH_LENGTH, description="Text in the phone or email."),
    ] = None,
    outcome: OutcomeFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ContactPageOut:
    """Each contact of a launched campaign with its journey state, in audience order."""
    page = activity.list_contacts(
        db, campaign_id, search=q, outcome=outcome, after=int_cursor(cursor) or 0, limit=limit
    )
    return ContactPageOut(
        items=[ContactOut.of(item) for item in page.items],
        next_cursor=None if page.next_after is None else str(page.next_after),
    )


@router.get("/{campaign_id}/contacts/{journey_id}", response_model=JourneyOut)
def journey(campaign_id: ResourceId, journey_id: ResourceId, db: SessionDep) -> JourneyOut:
    """One contact's journey: each step with its message, and every event, oldest first."""
    detail = activity.journey_detail(db, campaign_id, journey_id)
    return JourneyOut(
        contact=ContactOut.of(detail.contact),
        fields=detail.fields,
        steps=[
            StepDetailOut(
                index=step.info.index,
                label=step.info.label,
                integration=step.info.integration,
                channel=step.info.channel,
                status=step.status,
                message=None
                if step.message is None
                else MessageOut.of(step.message, step.info.label, step.explanation),
            )
            for step in detail.steps
        ],
        timeline=[_timeline_entry(entry) for entry in detail.timeline],
        is_timeline_cut=detail.is_timeline_cut,
    )


@router.get("/{campaign_id}/messages", response_model=MessagePageOut)
def messages(
    campaign_id: ResourceId,
    db: SessionDep,
    channel: Channel | None = None,
    status: Annotated[
        str | None,
        Query(max_length=16, description=", ".join(message_logs.MESSAGE_STATUSES)),
    ] = None,
    error_code: Annotated[str | None, Query(max_length=message_logs.MAX_CODE_LENGTH)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> MessagePageOut:
    """The message log: every message with its status and provider error, oldest first."""
    page = message_logs.list_messages(
        db,
        campaign_id,
        channel=channel.value if channel else None,
        status=status,
        error_code=error_code,
        after=int_cursor(cursor) or 0,
        limit=limit,
    )
    return MessagePageOut(
        items=[MessageOut.of(e.message, e.step, e.explanation) for e in page.items],
        next_cursor=None if page.next_after is None else str(page.next_after),
        error_codes=[
            ErrorCountOut(code=c.code, count=c.count, explanation=ExplanationOut.of(c.entry))
            for c in page.error_codes
        ],
    )


@router.get("/{campaign_id}/messages/{message_id}", response_model=MessageDetailOut)
def message(campaign_id: ResourceId, message_id: ResourceId, db: SessionDep) -> MessageDetailOut:
    detail = message_logs.get_message(db, campaign_id, message_id)
    entry = detail.entry
    return MessageDetailOut(
        message=MessageOut.of(entry.message, entry.step, entry.explanation),
        contact=ContactOut.of(detail.contact),
        events=[_timeline_entry(event) for event in detail.events],
    )


def _timeline_entry(entry: activity.TimelineEntry) -> TimelineEntryOut:
    return TimelineEntryOut(
        at=entry.at,
        kind=entry.kind,
        label=entry.label,
        step=entry.step,
        channel=entry.channel,
        provider_message_id=entry.provider_message_id,
        error_code=entry.error_code,
        detail=entry.detail,
        explanation=ExplanationOut.of(entry.explanation),
    )
