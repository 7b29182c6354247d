"""Turning what happened into outbound webhook deliveries (the outbox's producer).

Events are read from tables Herald writes anyway, so nothing on the hot
path changes and no event is lost when a process dies between a change and
its webhook:

| event | source | position |
| --- | --- | --- |
| ``contact.completed`` | ``journey_log`` rows of kind ``completed`` | row id |
| ``reply.received`` | inbound ``conversation_messages`` | row id |
| ``campaign.sent`` | ``campaigns`` with status ``sent`` | ``completed_at`` (µs) |

Each source keeps a cursor. Rows newer than :data:`GRACE_SECONDS` are read
again on the next pass: ids are handed out before commit on PostgreSQL, so
a row may become visible after a higher one; the unique (subscription,
event) key makes the second reading queue nothing. A subscription gets the
events that happen from its creation on, never history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from herald.domain.outbound_webhooks import DeliveryStatus, WebhookEvent
from herald.store.campaigns import CampaignRow, read_counters
from herald.store.conversations import ConversationMessageRow, ConversationRow
from herald.store.journeys import JOURNEY_LOG, JOURNEYS
from herald.store.outbound_webhooks import (
    DELIVERIES,
    WebhookCursorRow,
    WebhookSubscriptionRow,
)

GRACE_SECONDS = 5
SCAN_ROWS = 1000


@dataclass(frozen=True)
class Event:
    id: str
    type: WebhookEvent
    at: datetime
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type.value,
            "created_at": _iso(self.at),
            "data": self.data,
        }


@dataclass(frozen=True)
class Subscriber:
    id: int
    events: frozenset[str]
    created_at: datetime


def produce_events(session: Session, now: datetime) -> int:
    """Queue deliveries for new events of every source; commits. Returns deliveries queued."""
    subscribers = [
        Subscriber(row.id, frozenset(row.events), row.created_at)
        for row in session.scalars(
            select(WebhookSubscriptionRow).where(WebhookSubscriptionRow.is_active.is_(True))
        )
    ]
    queued = 0
    for source, read in SOURCES.items():
        cursor = _cursor(session, source)
        events, position = read(session, cursor, now - timedelta(seconds=GRACE_SECONDS))
        queued += _enqueue(session, subscribers, events, now)
        if position > cursor:
            _move_cursor(session, source, position, now)
    session.commit()
    return queued


def _enqueue(
    session: Session, subscribers: Sequence[Subscriber], events: Sequence[Event], now: datetime
) -> int:
    rows = [
        {
            "subscription_id": subscriber.id,
            "event_id": event.id,
            "event_type": event.type.value,
            "payload": event.payload(),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        for subscriber in subscribers
        if event.type.value in subscriber.events and event.at >= subscriber.created_at
    ]
    if not rows:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(DELIVERIES).on_conflict_do_nothing().returning(DELIVERIES.c.id)
    return len(session.execute(statement, rows).all())


def _cursor(session: Session, source: str) -> int:
    row = session.get(WebhookCursorRow, source)
    return 0 if row is None else row.position


def _move_cursor(session: Session, source: str, position: int, now: datetime) -> None:
    """Upsert: two workers producing at once both move it, neither fails on the insert."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(WebhookCursorRow).values(source=source, position=position, updated_at=now)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[WebhookCursorRow.source],
            set_={"position": statement.excluded.position, "updated_at": now},
        )
    )


def _settled_position(rows: Sequence[Any], settled_before: datetime, key: str) -> int | None:
    """The last position that every later pass may skip: rows past the grace are final."""
    settled = [row for row in rows if row.at <= settled_before]
    return getattr(settled[-1], key) if settled else None


def _completed_contacts(
    session: Session, cursor: int, settled_before: datetime
) -> tuple[list[Event], int]:
    log, journeys = JOURNEY_LOG.c, JOURNEYS.c
    query = (
        select(
            log.id,
            log.at,
            log.detail,
            log.campaign_id,
            log.journey_id,
            journeys.contact_id,
            journeys.phone,
            journeys.email,
        )
        .join(JOURNEYS, journeys.id == log.journey_id)
        .where(log.id > cursor, log.kind == "completed")
        .order_by(log.id)
        .limit(SCAN_ROWS)
    )
    rows = session.execute(query).all()
    events = [
        Event(
            id=f"evt_contact.completed_{row.id}",
            type=WebhookEvent.CONTACT_COMPLETED,
            at=row.at,
            data={
                "campaign_id": row.campaign_id,
                "journey_id": row.journey_id,
                "contact": {"id": row.contact_id, "phone": row.phone, "email": row.email},
                "outcome": row.detail,
                "completed_at": _iso(row.at),
            },
        )
        for row in rows
    ]
    return events, _settled_position(rows, settled_before, "id") or cursor


def _replies(session: Session, cursor: int, settled_before: datetime) -> tuple[list[Event], int]:
    message, conversation = ConversationMessageRow, ConversationRow
    query = (
        select(
            message.id,
            message.recorded_at.label("at"),
            message.text,
            message.channel,
            message.conversation_id,
            conversation.campaign_id,
            conversation.address,
        )
        .join(conversation, conversation.id == message.conversation_id)
        .where(message.id > cursor, message.direction == "inbound")
        .order_by(message.id)
        .limit(SCAN_ROWS)
    )
    rows = session.execute(query).all()
    events = [
        Event(
            id=f"evt_reply.received_{row.id}",
            type=WebhookEvent.REPLY_RECEIVED,
            at=row.at,
            data={
                "conversation_id": row.conversation_id,
                "campaign_id": row.campaign_id,
                "channel": row.channel,
                "from": row.address,
                "text": row.text,
                "received_at": _iso(row.at),
            },
        )
        for row in rows
    ]
    return events, _settled_position(rows, settled_before, "id") or cursor


def _sent_campaigns(
    session: Session, cursor: int, settled_before: datetime
) -> tuple[list[Event], int]:
    since = datetime.fromtimestamp(cursor / 1_000_000, UTC)
    query = (
        select(
            CampaignRow.id,
            CampaignRow.name,
            CampaignRow.tag,
            CampaignRow.contact_count,
            CampaignRow.completed_at.label("at"),
        )
        .where(CampaignRow.status == "sent", CampaignRow.completed_at > since)
        .order_by(CampaignRow.completed_at)
        .limit(SCAN_ROWS)
    )
    rows = session.execute(query).all()
    events = [
        Event(
            id=f"evt_campaign.sent_{row.id}",
            type=WebhookEvent.CAMPAIGN_SENT,
            at=row.at,
            data={
                "campaign_id": row.id,
                "name": row.name,
                "tag": row.tag,
                "contacts": row.contact_count,
                "outcomes": _outcomes(read_counters(session, row.id)),
                "completed_at": _iso(row.at),
            },
        )
        for row in rows
    ]
    settled = [row for row in rows if row.at <= settled_before]
    position = int(settled[-1].at.timestamp() * 1_000_000) if settled else cursor
    return events, position


def _outcomes(counters: dict[str, int]) -> dict[str, int]:
    return {
        name.removeprefix("outcome:"): value
        for name, value in sorted(counters.items())
        if name.startswith("outcome:") and value
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


Reader = Callable[[Session, int, datetime], tuple[list[Event], int]]
SOURCES: dict[str, Reader] = {
    WebhookEvent.CONTACT_COMPLETED.value: _completed_contacts,
    WebhookEvent.REPLY_RECEIVED.value: _replies,
    WebhookEvent.CAMPAIGN_SENT.value: _sent_campaigns,
}
