"""Read-only queries behind a campaign's subscriber activity and message logs.

Every list is a keyset page: the caller passes the last key it saw and gets
the next ``limit`` rows in key order, so page 10,000 costs what page 1 does.
Contacts page by ``contact_id`` (audience row order), which the
``(campaign_id, contact_id)`` unique index serves; messages page by ``id``
within a campaign (``ix_messages_campaign_log``), and by error code through
``ix_messages_campaign_error``, which holds only failed messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from herald.store.audiences import CONTACTS
from herald.store.integrations import IntegrationRow
from herald.store.journeys import JOURNEY_LOG, JOURNEYS, MESSAGES


@dataclass(frozen=True)
class JourneyRecord:
    id: int
    contact_id: int
    row_number: int | None
    phone: str | None
    email: str | None
    fields: dict[str, str]
    phase: str
    outcome: str | None
    state: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    id: int
    journey_id: int
    step: int
    attempt: int
    channel: str
    integration_name: str | None
    to_address: str
    status: str
    provider_message_id: str | None
    error_code: str | None
    error_title: str | None
    error_detail: str | None
    preview: str | None
    created_at: datetime
    sent_at: datetime | None
    status_at: datetime | None


@dataclass(frozen=True)
class LogRecord:
    id: int
    at: datetime
    kind: str
    step: int | None
    channel: str | None
    provider_message_id: str | None
    error_code: str | None
    detail: str | None


@dataclass(frozen=True)
class JourneyFilter:
    search: str | None = None  # a substring of the phone or the email
    outcome: str | None = None  # an outcome, or "in_progress" for journeys without one


IN_PROGRESS = "in_progress"


def page_journeys(
    session: Session,
    campaign_id: int,
    where: JourneyFilter,
    *,
    after_contact_id: int = 0,
    limit: int,
) -> list[JourneyRecord]:
    query = _journeys().where(
        JOURNEYS.c.campaign_id == campaign_id, JOURNEYS.c.contact_id > after_contact_id
    )
    if where.search:
        pattern = f"%{_escape_like(where.search.lower())}%"
        query = query.where(
            or_(
                JOURNEYS.c.phone.like(pattern, escape="\\"),
                JOURNEYS.c.email_key.like(pattern, escape="\\"),
            )
        )
    if where.outcome == IN_PROGRESS:
        query = query.where(JOURNEYS.c.outcome.is_(None))
    elif where.outcome:
        query = query.where(JOURNEYS.c.outcome == where.outcome)
    rows = session.execute(query.order_by(JOURNEYS.c.contact_id).limit(limit))
    return [_journey(row._mapping) for row in rows]


def find_journey(session: Session, campaign_id: int, journey_id: int) -> JourneyRecord | None:
    row = session.execute(
        _journeys().where(JOURNEYS.c.campaign_id == campaign_id, JOURNEYS.c.id == journey_id)
    ).one_or_none()
    return None if row is None else _journey(row._mapping)


def journey_messages(session: Session, journey_id: int) -> list[MessageRecord]:
    """Every message of one journey, by step."""
    query = _messages().where(MESSAGES.c.journey_id == journey_id).order_by(MESSAGES.c.step)
    return [_message(row._mapping) for row in session.execute(query)]


def journey_log(session: Session, journey_id: int, *, limit: int) -> list[LogRecord]:
    """The journey's timeline, oldest first (at most ``limit`` entries)."""
    query = (
        select(JOURNEY_LOG)
        .where(JOURNEY_LOG.c.journey_id == journey_id)
        .order_by(JOURNEY_LOG.c.id)
        .limit(limit)
    )
    return [
        LogRecord(
            id=row.id,
            at=row.at,
            kind=row.kind,
            step=row.step,
            channel=row.channel,
            provider_message_id=row.provider_message_id,
            error_code=row.error_code,
            detail=row.detail,
        )
        for row in session.execute(query)
    ]


@dataclass(frozen=True)
class MessageFilter:
    channel: str | None = None
    status: str | None = None
    error_code: str | None = None


def page_messages(
    session: Session,
    campaign_id: int,
    where: MessageFilter,
    *,
    after_id: int = 0,
    limit: int,
) -> list[MessageRecord]:
    query = _messages().where(MESSAGES.c.campaign_id == campaign_id, MESSAGES.c.id > after_id)
    if where.channel:
        query = query.where(MESSAGES.c.channel == where.channel)
    if where.status:
        query = query.where(MESSAGES.c.status == where.status)
    if where.error_code:
        query = query.where(
            MESSAGES.c.error_code.is_not(None), MESSAGES.c.error_code == where.error_code
        )
    rows = session.execute(query.order_by(MESSAGES.c.id).limit(limit))
    return [_message(row._mapping) for row in rows]


def find_message(session: Session, campaign_id: int, message_id: int) -> MessageRecord | None:
    row = session.execute(
        _messages().where(MESSAGES.c.campaign_id == campaign_id, MESSAGES.c.id == message_id)
    ).one_or_none()
    return None if row is None else _message(row._mapping)


def _journeys() -> Select[Any]:
    return select(
        JOURNEYS.c.id,
        JOURNEYS.c.contact_id,
        JOURNEYS.c.phone,
        JOURNEYS.c.email,
        JOURNEYS.c.phase,
        JOURNEYS.c.outcome,
        JOURNEYS.c.state,
        JOURNEYS.c.updated_at,
        CONTACTS.c.row_number,
        CONTACTS.c.fields,
    ).join(CONTACTS, CONTACTS.c.id == JOURNEYS.c.contact_id, isouter=True)


def _journey(row: Any) -> JourneyRecord:
    return JourneyRecord(
        id=row["id"],
        contact_id=row["contact_id"],
        row_number=row["row_number"],
        phone=row["phone"],
        email=row["email"],
        fields=dict(row["fields"] or {}),
        phase=row["phase"],
        outcome=row["outcome"],
        state=dict(row["state"] or {}),
        updated_at=row["updated_at"],
    )


def _messages() -> Select[Any]:
    integrations = IntegrationRow.__table__
    return select(
        MESSAGES,
        integrations.c.name.label("integration_name"),
    ).join(integrations, integrations.c.id == MESSAGES.c.integration_id, isouter=True)


def _message(row: Any) -> MessageRecord:
    return MessageRecord(
        id=row["id"],
        journey_id=row["journey_id"],
        step=row["step"],
        attempt=row["attempt"],
        channel=row["channel"],
        integration_name=row["integration_name"],
        to_address=row["to_address"],
        status=row["status"],
        provider_message_id=row["provider_message_id"],
        error_code=row["error_code"],
        error_title=row["error_title"],
        error_detail=row["error_detail"],
        preview=row["preview"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        status_at=row["status_at"],
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
