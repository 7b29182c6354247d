"""What happened in a launched campaign, contact by contact and message by message.

Both lists page by id (keyset) so they stay fast on a million-contact
campaign, and filter on indexed columns: ``(campaign_id, phase)`` for
journeys, ``(campaign_id, status)`` for messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.domain.channels import Channel
from herald.domain.journey_state import Outcome, Phase
from herald.errors import ValidationError
from herald.services.campaign_views import get_row
from herald.store.journeys import JOURNEY_LOG, JOURNEYS, MESSAGES

OUTCOMES = tuple(outcome.value for outcome in Outcome)


@dataclass(frozen=True)
class ContactJourney:
    journey_id: int
    contact_id: int
    phone: str | None
    email: str | None
    phase: str
    outcome: str | None
    step: int | None
    steps: tuple[str, ...]  # each step's status, by index
    next_action_at: datetime | None
    last_sent_at: datetime | None
    last_delivered_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class JourneyFilter:
    phase: str | None = None
    outcome: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class MessageEntry:
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


@dataclass(frozen=True)
class MessageFilter:
    status: str | None = None
    channel: str | None = None
    step: int | None = None
    error_code: str | None = None
    journey_id: int | None = None


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    step: int | None
    channel: str | None
    error_code: str | None
    detail: str | None


def list_contact_journeys(
    session: Session, campaign_id: int, where: JourneyFilter, *, after_id: int, limit: int
) -> list[ContactJourney]:
    """Journeys by id after ``after_id``; ``limit`` rows at most (ask for one more to page)."""
    get_row(session, campaign_id)
    j = JOURNEYS.c
    query = (
        select(JOURNEYS)
        .where(j.campaign_id == campaign_id, j.id > after_id)
        .order_by(j.id)
        .limit(limit)
    )
    if where.phase is not None:
        query = query.where(j.phase == _choice(where.phase, [p.value for p in Phase], "phase"))
    if where.outcome is not None:
        query = query.where(j.outcome == _choice(where.outcome, OUTCOMES, "outcome"))
    if where.address:
        query = query.where((j.phone == where.address) | (j.email_key == where.address.lower()))
    return [_journey(row._mapping) for row in session.execute(query)]


def contact_timeline(session: Session, campaign_id: int, journey_id: int) -> list[TimelineEntry]:
    """Every move of one contact's journey, oldest first."""
    get_row(session, campaign_id)
    log = JOURNEY_LOG.c
    rows = session.execute(
        select(log.at, log.kind, log.step, log.channel, log.error_code, log.detail)
        .where(log.campaign_id == campaign_id, log.journey_id == journey_id)
        .order_by(log.id)
    )
    return [TimelineEntry(*row) for row in rows]


def list_messages(
    session: Session, campaign_id: int, where: MessageFilter, *, after_id: int, limit: int
) -> list[MessageEntry]:
    """The campaign's message log by id after ``after_id``, filtered."""
    get_row(session, campaign_id)
    m = MESSAGES.c
    query = (
        select(MESSAGES)
        .where(m.campaign_id == campaign_id, m.id > after_id)
        .order_by(m.id)
        .limit(limit)
    )
    if where.status is not None:
        query = query.where(m.status == where.status)
    if where.channel is not None:
        channel = _choice(where.channel, [c.value for c in Channel], "channel")
        query = query.where(m.channel == channel)
    if where.step is not None:
        query = query.where(m.step == where.step)
    if where.error_code is not None:
        query = query.where(m.error_code == where.error_code)
    if where.journey_id is not None:
        query = query.where(m.journey_id == where.journey_id)
    return [_message(row._mapping) for row in session.execute(query)]


def _choice(value: str, allowed: Any, field: str) -> str:
    if value not in allowed:
        raise ValidationError(
            f"{field} must be one of {', '.join(allowed)}; got {value!r}", field=field
        )
    return value


def _journey(row: Any) -> ContactJourney:
    state = row["state"] if isinstance(row["state"], dict) else {}
    step = state.get("step")
    steps = state.get("steps")
    return ContactJourney(
        journey_id=row["id"],
        contact_id=row["contact_id"],
        phone=row["phone"],
        email=row["email"],
        phase=row["phase"],
        outcome=row["outcome"],
        step=step if isinstance(step, int) else None,
        steps=tuple(str(status) for status in steps) if isinstance(steps, list) else (),
        next_action_at=row["due_at"] if row["phase"] != Phase.DONE.value else None,
        last_sent_at=row["last_sent_at"],
        last_delivered_at=row["last_delivered_at"],
        updated_at=row["updated_at"],
    )


def _message(row: Any) -> MessageEntry:
    return MessageEntry(
        **{name: row[name] for name in MessageEntry.__dataclass_fields__}  # same column names
    )
