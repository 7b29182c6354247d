"""Conversations, their tags and their messages.

One ``conversations`` row per thread (see :mod:`herald.domain.conversations`
for its identity, ``thread_key``). Campaign conversations are opened in bulk
by the journey worker when a journey's first message on a channel is
recorded; the others when a message arrives that no campaign explains.

What a thread shows comes from two places, merged by time when read:

- the campaign's own messages stay in ``messages`` (the journey engine's
  table, with their live status, provider id and error code): they are never
  copied, so the send path writes nothing more per message;
- ``conversation_messages`` holds everything else: what the person wrote,
  and the replies of the agent and of users, with their own send status.

Tags live in ``conversation_tags`` (campaign tags copied when the
conversation opens, plus those agents and users add), so filtering by tag is
one indexed lookup on either backend.

The reply worker leases conversations the way the journey worker leases
journeys: ``agent_due_at`` says when there is work (a queued inbound message
or a queued reply), ``lease_owner``/``lease_until`` who holds it.

Lock order, to keep PostgreSQL free of deadlocks between workers: a
transaction that touches a journey and a conversation touches the journey
first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Text,
    UniqueConstraint,
    case,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.domain.agents import Direction
from herald.domain.channels import Channel
from herald.domain.conversations import (
    AgentStatus,
    Author,
    ConversationStatus,
    status_after_inbound,
)
from herald.store.base import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")
MAX_POSITION = 1_000_000  # after every campaign tag


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_activity", "last_message_at", "id"),
        Index("ix_conversations_campaign_activity", "campaign_id", "last_message_at"),
        Index("ix_conversations_agent_due", "agent_due_at"),
        Index("ix_conversations_address", "address"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    thread_key: Mapped[str] = mapped_column(String(400), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    integration_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("integrations.id", ondelete="SET NULL")
    )
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    journey_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("journeys.id", ondelete="SET NULL"), index=True
    )
    agent_version_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agent_versions.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    outcome: Mapped[str | None] = mapped_column(String(40))
    hand_off_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_inbound_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    agent_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ConversationTagRow(Base):
    __tablename__ = "conversation_tags"
    __table_args__ = (Index("ix_conversation_tags_tag", "tag", "conversation_id"),)

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # campaign, agent or user
    # Campaign tags keep the campaign's order (derived tag first); others are None.
    position: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ConversationMessageRow(Base):
    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("ix_conversation_messages_thread", "conversation_id", "id"),
        Index("ix_conversation_messages_provider_id", "provider_message_id"),
        # Retried API calls of a bot or a user carry the same reference: one reply.
        UniqueConstraint("conversation_id", "client_reference"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    # Inbound: the provider event's dedupe key. Outbound: the correlation key
    # the provider echoes back in statuses.
    key: Mapped[str] = mapped_column(String(255), unique=True)
    direction: Mapped[str] = mapped_column(String(8))  # inbound / outbound
    author: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(Text)
    thread_ids: Mapped[list[str] | None] = mapped_column(JSON)  # email Message-IDs
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())  # the provider's time for inbound
    # Herald's own time of recording: threads are ordered by it, because
    # providers' times are coarse (WhatsApp's are whole seconds) and would
    # put an answer before the message it answers.
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    agent_status: Mapped[str | None] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    answers_id: Mapped[int | None] = mapped_column(BigId)  # the inbound a reply answers
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # provider calls of a reply
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # after a retryable refusal
    client_reference: Mapped[str | None] = mapped_column(String(128))


CONVERSATIONS = Base.metadata.tables[ConversationRow.__tablename__]
CONVERSATION_TAGS = Base.metadata.tables[ConversationTagRow.__tablename__]
CONVERSATION_MESSAGES = Base.metadata.tables[ConversationMessageRow.__tablename__]


def moment(value: datetime) -> Any:
    """A time as a typed SQL value, stored like every ``UtcDateTime`` column."""
    return literal(value, UtcDateTime())


def upsert(session: Session) -> Any:
    """The dialect's ``INSERT`` that knows ``ON CONFLICT`` (both backends have it)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- opening ------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationSeed:
    """What a conversation is opened with; ignored when its thread already exists."""

    thread_key: str
    channel: Channel
    address: str
    at: datetime
    integration_id: int | None = None
    campaign_id: int | None = None
    journey_id: int | None = None
    agent_version_id: int | None = None
    tags: tuple[str, ...] = ()


def open_conversations(session: Session, seeds: Sequence[ConversationSeed]) -> dict[str, int]:
    """Open every conversation not opened yet; return ``{thread_key: id}`` of the new ones.

    Two statements whatever the number: one ``INSERT ... ON CONFLICT DO
    NOTHING`` (a thread opened meanwhile by another process is left alone)
    and one insert of the new conversations' tags. Rows go in key order so
    concurrent callers lock index entries in the same order.
    """
    unique = {seed.thread_key: seed for seed in seeds}
    if not unique:
        return {}
    rows = [_conversation_values(unique[key]) for key in sorted(unique)]
    statement = upsert(session)(CONVERSATIONS).values(rows)
    statement = statement.on_conflict_do_nothing(index_elements=["thread_key"])
    created = {
        row.thread_key: row.id
        for row in session.execute(
            statement.returning(CONVERSATIONS.c.id, CONVERSATIONS.c.thread_key)
        )
    }
    tags = [
        {
            "conversation_id": conversation_id,
            "tag": tag,
            "source": Author.CAMPAIGN.value,
            "position": position,
            "added_at": unique[key].at,
        }
        for key, conversation_id in sorted(created.items())
        for position, tag in enumerate(dict.fromkeys(unique[key].tags))
    ]
    if tags:
        session.execute(insert(CONVERSATION_TAGS), tags)
    return created


def _conversation_values(seed: ConversationSeed) -> dict[str, Any]:
    return {
        "thread_key": seed.thread_key,
        "channel": seed.channel.value,
        "address": seed.address,
        "integration_id": seed.integration_id,
        "campaign_id": seed.campaign_id,
        "journey_id": seed.journey_id,
        "agent_version_id": seed.agent_version_id,
        "status": ConversationStatus.OPEN.value,
        "created_at": seed.at,
        "updated_at": seed.at,
        "last_message_at": seed.at,
        "unread_count": 0,
    }


@dataclass(frozen=True)
class ConversationRecord:
    """A conversation's columns as the services and workers read them."""

    id: int
    thread_key: str
    channel: Channel
    address: str
    integration_id: int | None
    campaign_id: int | None
    journey_id: int | None
    agent_version_id: int | None
    status: ConversationStatus
    outcome: str | None
    hand_off_reason: str | None
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    last_inbound_at: datetime | None
    unread_count: int


RECORD_COLUMNS = tuple(CONVERSATIONS.c[name] for name in ConversationRecord.__dataclass_fields__)


def to_record(row: Row[Any]) -> ConversationRecord:
    values = dict(row._mapping)
    values["channel"] = Channel(values["channel"])
    values["status"] = ConversationStatus(values["status"])
    return ConversationRecord(**values)


def find_conversation(
    session: Session, conversation_id: int, *, for_update: bool = False
) -> ConversationRecord | None:
    query = select(*RECORD_COLUMNS).where(CONVERSATIONS.c.id == conversation_id)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).one_or_none()
    return None if row is None else to_record(row)


def find_or_open(session: Session, seed: ConversationSeed) -> ConversationRecord:
    """The conversation of ``seed.thread_key``, opened from the seed if it is new."""
    open_conversations(session, [seed])
    row = session.execute(
        select(*RECORD_COLUMNS).where(CONVERSATIONS.c.thread_key == seed.thread_key)
    ).one()
    return to_record(row)


# --- messages from the contact ----------------------------------------------------


@dataclass(frozen=True)
class NewInbound:
    key: str
    channel: Channel
    text: str
    at: datetime
    provider_message_id: str
    payload: str | None = None
    subject: str | None = None
    thread_ids: tuple[str, ...] = ()
    agent_status: AgentStatus = AgentStatus.QUEUED
    note: str | None = None


def add_inbound(
    session: Session, conversation: ConversationRecord, message: NewInbound, now: datetime
) -> int:
    """Store what the person wrote and update the conversation's activity.

    A closed conversation reopens; a queued message makes the conversation
    due for the reply worker at once (a leased one too: the worker that holds
    it sees the message when it releases it).
    """
    message_id = session.execute(
        insert(CONVERSATION_MESSAGES)
        .values(
            conversation_id=conversation.id,
            key=message.key,
            direction=Direction.INBOUND.value,
            author=Author.CONTACT.value,
            channel=message.channel.value,
            text=message.text,
            payload=message.payload,
            subject=message.subject,
            thread_ids=list(message.thread_ids) or None,
            provider_message_id=message.provider_message_id,
            status="received",
            at=message.at,
            recorded_at=now,
            agent_status=message.agent_status.value,
            note=message.note,
        )
        .returning(CONVERSATION_MESSAGES.c.id)
    ).scalar_one()
    values: dict[str, Any] = {
        "last_message_at": _later(CONVERSATIONS.c.last_message_at, message.at),
        "last_inbound_at": _later(CONVERSATIONS.c.last_inbound_at, message.at),
        "unread_count": CONVERSATIONS.c.unread_count + 1,
        "status": status_after_inbound(conversation.status).value,
        "updated_at": now,
    }
    if message.agent_status is AgentStatus.QUEUED:
        values["agent_due_at"] = case(
            (CONVERSATIONS.c.agent_due_at.is_(None), moment(now)),
            (CONVERSATIONS.c.agent_due_at > now, moment(now)),
            else_=CONVERSATIONS.c.agent_due_at,
        )
    session.execute(
        update(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation.id).values(**values)
    )
    return int(message_id)


def _later(column: Any, value: datetime) -> Any:
    """``max(column, value)`` that treats NULL as "never" on both backends."""
    return case((column.is_(None), moment(value)), (column < value, moment(value)), else_=column)


# --- status ----------------------------------------------------------------------


def set_status(
    session: Session,
    conversation_id: int,
    status: ConversationStatus,
    now: datetime,
    *,
    reason: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status.value, "updated_at": now}
    if status is ConversationStatus.HANDED_OFF:
        values["hand_off_reason"] = reason
    session.execute(
        update(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation_id).values(**values)
    )


def wake(session: Session, conversation_id: int, now: datetime) -> None:
    """Make a conversation due for the reply worker now (a queued reply waits)."""
    session.execute(
        update(CONVERSATIONS)
        .where(CONVERSATIONS.c.id == conversation_id)
        .where(or_(CONVERSATIONS.c.agent_due_at.is_(None), CONVERSATIONS.c.agent_due_at > now))
        .values(agent_due_at=now)
    )


def mark_read(session: Session, conversation_id: int, now: datetime) -> None:
    session.execute(
        update(CONVERSATIONS)
        .where(CONVERSATIONS.c.id == conversation_id)
        .values(unread_count=0, updated_at=now)
    )
