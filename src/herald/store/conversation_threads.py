"""Reading conversations: threads, the contact and campaign behind them, searches.

A thread merges two tables by time: the campaign's messages of the journey on
the conversation's channel (``messages``, author ``campaign``) and the
conversation's own messages. Both are read for a set of conversations at
once (two queries), for the reply worker's batches and for pages of the UI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from herald.domain.agents import CampaignInfo, ContactProfile, Direction
from herald.domain.channels import Channel
from herald.domain.conversations import Author, ConversationStatus, Cursor
from herald.store.audiences import CONTACTS
from herald.store.campaigns import CampaignRow
from herald.store.conversations import (
    CONVERSATION_MESSAGES,
    CONVERSATION_TAGS,
    CONVERSATIONS,
    RECORD_COLUMNS,
    ConversationRecord,
    to_record,
)
from herald.store.journeys import JOURNEYS, MESSAGES

LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class ThreadMessage:
    """One message of a thread, whichever table holds it.

    ``id`` is unique per author kind: campaign messages are ``messages`` rows,
    the others ``conversation_messages`` rows.
    """

    id: int
    author: Author
    direction: Direction
    channel: Channel
    text: str
    at: datetime
    status: str
    provider_message_id: str | None = None
    error_code: str | None = None
    error_detail: str | None = None
    payload: str | None = None
    subject: str | None = None
    author_name: str | None = None
    agent_status: str | None = None
    note: str | None = None
    step: int | None = None
    recorded_at: datetime | None = None  # Herald's time: the thread's order


def load_threads(
    session: Session, conversations: Sequence[ConversationRecord]
) -> dict[int, list[ThreadMessage]]:
    """Every message of each conversation, oldest first."""
    threads: dict[int, list[ThreadMessage]] = {c.id: [] for c in conversations}
    for conversation_id, message in _campaign_messages(session, conversations):
        threads[conversation_id].append(message)
    if threads:
        query = (
            select(CONVERSATION_MESSAGES)
            .where(CONVERSATION_MESSAGES.c.conversation_id.in_(list(threads)))
            .order_by(CONVERSATION_MESSAGES.c.id)
        )
        for row in session.execute(query):
            threads[row.conversation_id].append(_conversation_message(row))
    for thread in threads.values():
        # Stable: equal times keep campaign messages (read first) before answers.
        thread.sort(key=lambda message: message.recorded_at or message.at)
    return threads


def _campaign_messages(
    session: Session, conversations: Sequence[ConversationRecord]
) -> list[tuple[int, ThreadMessage]]:
    by_thread = {(c.journey_id, c.channel.value): c.id for c in conversations if c.journey_id}
    if not by_thread:
        return []
    query = (
        select(MESSAGES)
        .where(MESSAGES.c.journey_id.in_({journey_id for journey_id, _ in by_thread}))
        .order_by(MESSAGES.c.journey_id, MESSAGES.c.step)
    )
    found = []
    for row in session.execute(query):
        conversation_id = by_thread.get((row.journey_id, row.channel))
        if conversation_id is not None:
            found.append((conversation_id, _campaign_message(row)))
    return found


def _campaign_message(row: Any) -> ThreadMessage:
    return ThreadMessage(
        id=row.id,
        author=Author.CAMPAIGN,
        direction=Direction.OUTBOUND,
        channel=Channel(row.channel),
        text=row.preview or "",
        at=row.sent_at or row.created_at,
        status=row.status,
        provider_message_id=row.provider_message_id,
        error_code=row.error_code,
        error_detail=row.error_title or row.error_detail,
        step=row.step,
        recorded_at=row.sent_at or row.created_at,
    )


def _conversation_message(row: Any) -> ThreadMessage:
    return ThreadMessage(
        id=row.id,
        author=Author(row.author),
        direction=Direction(row.direction),
        channel=Channel(row.channel),
        text=row.text,
        at=row.at,
        status=row.status,
        provider_message_id=row.provider_message_id,
        error_code=row.error_code,
        error_detail=row.error_detail,
        payload=row.payload,
        subject=row.subject,
        author_name=row.author_name,
        agent_status=row.agent_status,
        note=row.note,
        recorded_at=row.recorded_at,
    )


# --- who the conversation is with ---------------------------------------------------


def load_contacts(session: Session, journey_ids: Sequence[int]) -> dict[int, ContactProfile]:
    """The contact behind each journey: phone, email and the audience's columns."""
    if not journey_ids:
        return {}
    query = (
        select(JOURNEYS.c.id, JOURNEYS.c.phone, JOURNEYS.c.email, CONTACTS.c.fields)
        .join(CONTACTS, CONTACTS.c.id == JOURNEYS.c.contact_id)
        .where(JOURNEYS.c.id.in_(list(journey_ids)))
    )
    return {
        row.id: ContactProfile(
            phone=row.phone, email=row.email, fields=MappingProxyType(dict(row.fields or {}))
        )
        for row in session.execute(query)
    }


def load_campaigns(session: Session, campaign_ids: Sequence[int]) -> dict[int, CampaignInfo]:
    if not campaign_ids:
        return {}
    query = select(CampaignRow.id, CampaignRow.name, CampaignRow.tag, CampaignRow.extra_tags)
    query = query.where(CampaignRow.id.in_(list(campaign_ids)))
    return {
        row.id: CampaignInfo(
            name=row.name, tags=(row.tag, *(t for t in row.extra_tags or [])), id=row.id
        )
        for row in session.execute(query)
    }


# --- searching ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationFilter:
    """Every given criterion must hold; ``text`` is a case-insensitive substring."""

    tag: str | None = None
    campaign_id: int | None = None
    channel: Channel | None = None
    status: ConversationStatus | None = None
    text: str | None = None


def search_conversations(
    session: Session, where: ConversationFilter, *, limit: int, after: Cursor | None
) -> list[ConversationRecord]:
    """A page, most recent activity first; ``after`` continues a previous page."""
    query = select(*RECORD_COLUMNS)
    if where.tag is not None:
        query = query.where(
            exists().where(
                CONVERSATION_TAGS.c.conversation_id == CONVERSATIONS.c.id,
                CONVERSATION_TAGS.c.tag == where.tag,
            )
        )
    if where.campaign_id is not None:
        query = query.where(CONVERSATIONS.c.campaign_id == where.campaign_id)
    if where.channel is not None:
        query = query.where(CONVERSATIONS.c.channel == where.channel.value)
    if where.status is not None:
        query = query.where(CONVERSATIONS.c.status == where.status.value)
    if where.text:
        query = query.where(_text_matches(where.text))
    if after is not None:
        at = CONVERSATIONS.c.last_message_at
        query = query.where(
            or_(at < after.last_message_at, and_(at == after.last_message_at, _id() < after.id))
        )
    query = query.order_by(CONVERSATIONS.c.last_message_at.desc(), _id().desc()).limit(limit)
    return [to_record(row) for row in session.execute(query)]


def _id() -> Any:
    return CONVERSATIONS.c.id


def _text_matches(text: str) -> Any:
    """The address, anything said in the conversation, or the campaign's message to it."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    said = exists().where(
        CONVERSATION_MESSAGES.c.conversation_id == CONVERSATIONS.c.id,
        func.lower(CONVERSATION_MESSAGES.c.text).like(pattern, escape=LIKE_ESCAPE),
    )
    sent = exists().where(
        MESSAGES.c.journey_id == CONVERSATIONS.c.journey_id,
        MESSAGES.c.channel == CONVERSATIONS.c.channel,
        func.lower(MESSAGES.c.preview).like(pattern, escape=LIKE_ESCAPE),
    )
    address = func.lower(CONVERSATIONS.c.address).like(pattern, escape=LIKE_ESCAPE)
    return or_(address, said, sent)


def find_thread_message(session: Session, key: str) -> ThreadMessage | None:
    """A conversation message by its key (the provider event's, or the reply's)."""
    row = session.execute(
        select(CONVERSATION_MESSAGES).where(CONVERSATION_MESSAGES.c.key == key)
    ).one_or_none()
    return None if row is None else _conversation_message(row)


def latest_texts(session: Session, conversations: Sequence[ConversationRecord]) -> dict[int, str]:
    """The text of each conversation's last message, for lists."""
    latest: dict[int, str] = {}
    for conversation_id, thread in load_threads(session, conversations).items():
        if thread:
            latest[conversation_id] = thread[-1].text
    return latest
