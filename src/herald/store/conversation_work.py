"""The reply worker's database side: claim conversations, queue and settle replies.

Claims work like the journey worker's: one UPDATE of up to ``limit`` due,
unleased conversations chosen with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL;
``agent_due_at`` moves to the end of the lease, so a conversation whose
worker died becomes due again and the next worker finds its unanswered
replies (status ``sending``) and records them as ``unknown``.

Every status change of a reply names the statuses it may come from, so a
late or repeated write can never move a reply backwards or resend it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, bindparam, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from herald.domain.agents import Direction
from herald.domain.channels import Channel
from herald.domain.conversations import AgentStatus, Author, ReplyStatus
from herald.store.conversations import (
    CONVERSATION_MESSAGES,
    CONVERSATIONS,
    RECORD_COLUMNS,
    ConversationRecord,
    moment,
    to_record,
)

MESSAGES = CONVERSATION_MESSAGES
UNKNOWN_DETAIL = "worker stopped during the send"


def claim_conversations(
    session: Session, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[ConversationRecord]:
    until = now + lease
    candidates = (
        select(CONVERSATIONS.c.id)
        .where(CONVERSATIONS.c.agent_due_at <= now)
        .where(or_(CONVERSATIONS.c.lease_until.is_(None), CONVERSATIONS.c.lease_until < now))
        .order_by(CONVERSATIONS.c.agent_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(CONVERSATIONS)
        .where(CONVERSATIONS.c.id.in_(candidates.scalar_subquery()))
        .values(lease_owner=owner, lease_until=until, agent_due_at=until)
        .returning(*RECORD_COLUMNS)
    ).all()
    return sorted((to_record(row) for row in rows), key=lambda record: record.id)


def release_conversations(
    session: Session, conversation_ids: Sequence[int], owner: str, now: datetime
) -> None:
    """Hand conversations back, due when their next piece of work is.

    That is now for an inbound message or a reply queued meanwhile, the
    retry time of a reply the provider asked to send later, else never.
    """
    if not conversation_ids:
        return
    next_work = (
        select(
            func.min(
                case(
                    (MESSAGES.c.agent_status == AgentStatus.QUEUED.value, moment(now)),
                    else_=func.coalesce(MESSAGES.c.retry_at, moment(now)),
                )
            )
        )
        .where(MESSAGES.c.conversation_id == CONVERSATIONS.c.id)
        .where(
            or_(
                MESSAGES.c.agent_status == AgentStatus.QUEUED.value,
                MESSAGES.c.status == ReplyStatus.QUEUED.value,
            )
        )
        .scalar_subquery()
    )
    session.execute(
        update(CONVERSATIONS)
        .where(CONVERSATIONS.c.id.in_(list(conversation_ids)))
        .where(CONVERSATIONS.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, agent_due_at=next_work)
    )


# --- inbound messages waiting for the agent ---------------------------------------


@dataclass(frozen=True)
class QueuedInbound:
    id: int
    conversation_id: int
    key: str
    channel: Channel
    text: str
    at: datetime
    provider_message_id: str | None
    payload: str | None
    subject: str | None
    thread_ids: tuple[str, ...]


_INBOUND_COLUMNS = (
    MESSAGES.c.id,
    MESSAGES.c.conversation_id,
    MESSAGES.c.key,
    MESSAGES.c.channel,
    MESSAGES.c.text,
    MESSAGES.c.at,
    MESSAGES.c.provider_message_id,
    MESSAGES.c.payload,
    MESSAGES.c.subject,
    MESSAGES.c.thread_ids,
)


def _queued_inbound(row: Any) -> QueuedInbound:
    values = dict(row._mapping)
    values["channel"] = Channel(values["channel"])
    values["thread_ids"] = tuple(values["thread_ids"] or ())
    return QueuedInbound(**values)


def oldest_queued_inbound(
    session: Session, conversation_ids: Sequence[int]
) -> dict[int, QueuedInbound]:
    """The oldest message waiting for the agent, per conversation.

    One per conversation and batch: the next one is answered with the first
    answer already in the conversation, in the order the person wrote.
    """
    if not conversation_ids:
        return {}
    query = (
        select(*_INBOUND_COLUMNS)
        .where(MESSAGES.c.conversation_id.in_(list(conversation_ids)))
        .where(MESSAGES.c.agent_status == AgentStatus.QUEUED.value)
        .order_by(MESSAGES.c.id)
    )
    found: dict[int, QueuedInbound] = {}
    for row in session.execute(query):
        if row.conversation_id not in found:
            found[row.conversation_id] = _queued_inbound(row)
    return found


def settle_inbound(
    session: Session, settled: Iterable[tuple[int, AgentStatus, str | None]]
) -> None:
    """Record what became of inbound messages: ``(id, agent status, note)``.

    Only messages still queued change: a message settled by anyone else
    keeps what they recorded.
    """
    rows = [
        {"b_id": message_id, "v_status": status.value, "v_note": note}
        for message_id, status, note in settled
    ]
    if rows:
        session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id == bindparam("b_id"))
            .where(MESSAGES.c.agent_status == AgentStatus.QUEUED.value)
            .values(agent_status=bindparam("v_status"), note=bindparam("v_note")),
            rows,
        )


def take_for_answer(session: Session, inbound_ids: Sequence[int]) -> set[int]:
    """Mark queued messages answered; return those this transaction took.

    A worker whose lease ran out while its agent was thinking finds its
    messages already taken by the next worker and applies nothing: one
    answer per message, whatever the timing.
    """
    if not inbound_ids:
        return set()
    result = session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.id.in_(list(inbound_ids)))
        .where(MESSAGES.c.agent_status == AgentStatus.QUEUED.value)
        .values(agent_status=AgentStatus.ANSWERED.value)
        .returning(MESSAGES.c.id)
    )
    return {row.id for row in result}


def note_answers(session: Session, notes: Iterable[tuple[int, AgentStatus, str | None]]) -> None:
    """The final agent status and note of messages taken by :func:`take_for_answer`."""
    rows = [
        {"b_id": message_id, "v_status": status.value, "v_note": note}
        for message_id, status, note in notes
    ]
    if rows:
        session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id == bindparam("b_id"))
            .values(agent_status=bindparam("v_status"), note=bindparam("v_note")),
            rows,
        )


# --- replies --------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundReply:
    """A reply to send (or never sent): the row's content, as stored."""

    id: int | None
    conversation_id: int
    key: str
    author: Author
    channel: Channel
    text: str
    status: ReplyStatus
    subject: str | None = None
    thread_ids: tuple[str, ...] = ()
    author_name: str | None = None
    answers_id: int | None = None
    client_reference: str | None = None
    error_code: str | None = None
    error_detail: str | None = None
    note: str | None = None
    attempts: int = 0


def insert_replies(session: Session, replies: Sequence[OutboundReply], now: datetime) -> None:
    """Record replies (intents when ``sending``) and bump their conversations' activity."""
    if not replies:
        return
    session.execute(insert(MESSAGES), [_reply_values(reply, now) for reply in replies])
    touch_conversations(session, {reply.conversation_id for reply in replies}, now)


def _reply_values(reply: OutboundReply, now: datetime) -> dict[str, Any]:
    return {
        "conversation_id": reply.conversation_id,
        "key": reply.key,
        "direction": Direction.OUTBOUND.value,
        "author": reply.author.value,
        "author_name": reply.author_name,
        "channel": reply.channel.value,
        "text": reply.text,
        "payload": None,
        "subject": reply.subject,
        "thread_ids": list(reply.thread_ids) or None,
        "provider_message_id": None,
        "status": reply.status.value,
        "error_code": reply.error_code,
        "error_detail": reply.error_detail,
        "at": now,
        "recorded_at": now,
        "status_at": now,
        "agent_status": None,
        "note": reply.note,
        "answers_id": reply.answers_id,
        "client_reference": reply.client_reference,
        "attempts": reply.attempts,
        "retry_at": None,
    }


def touch_conversations(session: Session, conversation_ids: Iterable[int], now: datetime) -> None:
    ids = sorted(set(conversation_ids))
    if ids:
        session.execute(
            update(CONVERSATIONS)
            .where(CONVERSATIONS.c.id.in_(ids))
            .values(last_message_at=now, updated_at=now)
        )


def queued_replies(
    session: Session, conversation_ids: Sequence[int], now: datetime
) -> list[OutboundReply]:
    """Replies due to be sent (queued by users and bots, or retried), oldest first."""
    if not conversation_ids:
        return []
    query = (
        select(MESSAGES)
        .where(MESSAGES.c.conversation_id.in_(list(conversation_ids)))
        .where(MESSAGES.c.direction == Direction.OUTBOUND.value)
        .where(MESSAGES.c.status == ReplyStatus.QUEUED.value)
        .where(or_(MESSAGES.c.retry_at.is_(None), MESSAGES.c.retry_at <= now))
        .order_by(MESSAGES.c.id)
    )
    return [
        OutboundReply(
            id=row.id,
            conversation_id=row.conversation_id,
            key=row.key,
            author=Author(row.author),
            channel=Channel(row.channel),
            text=row.text,
            status=ReplyStatus.QUEUED,
            subject=row.subject,
            thread_ids=tuple(row.thread_ids or ()),
            author_name=row.author_name,
            attempts=row.attempts,
        )
        for row in session.execute(query)
    ]


@dataclass(frozen=True)
class ReplyChange:
    """A status change for the reply with ``key``, allowed only from ``from_statuses``."""

    key: str
    status: ReplyStatus
    from_statuses: tuple[ReplyStatus, ...]
    provider_message_id: str | None = None
    error_code: str | None = None
    error_detail: str | None = None
    attempts: int | None = None  # None: unchanged
    retry_at: datetime | None = None


def change_replies(session: Session, changes: Sequence[ReplyChange], now: datetime) -> None:
    """Apply status changes in one statement per distinct set of allowed origins."""
    by_origin: dict[tuple[ReplyStatus, ...], list[ReplyChange]] = {}
    for change in changes:
        by_origin.setdefault(change.from_statuses, []).append(change)
    for origins, group in by_origin.items():
        session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.key == bindparam("b_key"))
            # OR of equalities, not IN: an IN list cannot be part of an executemany.
            .where(or_(*(MESSAGES.c.status == status.value for status in origins)))
            .values(
                status=bindparam("v_status"),
                provider_message_id=_new_or_stored_provider_id("v_provider_id"),
                error_code=bindparam("v_code"),
                error_detail=bindparam("v_detail"),
                attempts=func.coalesce(
                    bindparam("v_attempts", type_=Integer()), MESSAGES.c.attempts
                ),
                retry_at=bindparam("v_retry_at"),
                status_at=now,
            ),
            [
                {
                    "b_key": change.key,
                    "v_status": change.status.value,
                    "v_provider_id": change.provider_message_id,
                    "v_code": change.error_code,
                    "v_detail": change.error_detail,
                    "v_attempts": change.attempts,
                    "v_retry_at": change.retry_at,
                }
                for change in group
            ],
        )


def _new_or_stored_provider_id(parameter: str) -> Any:
    """A new provider id when given, else the one already stored."""
    return func.coalesce(bindparam(parameter, type_=String()), MESSAGES.c.provider_message_id)


def recover_unanswered(session: Session, conversation_ids: Sequence[int], now: datetime) -> int:
    """Replies left ``sending`` by a worker that died: their outcome is unknown, never resent."""
    if not conversation_ids:
        return 0
    result = session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.conversation_id.in_(list(conversation_ids)))
        .where(MESSAGES.c.status == ReplyStatus.SENDING.value)
        .values(status=ReplyStatus.UNKNOWN.value, error_detail=UNKNOWN_DETAIL, status_at=now)
        .returning(MESSAGES.c.id)
    )
    return len(result.all())


def latest_inbound(session: Session, conversation_id: int) -> QueuedInbound | None:
    """The last message the person wrote in a conversation (what a late answer answers)."""
    row = session.execute(
        select(*_INBOUND_COLUMNS)
        .where(MESSAGES.c.conversation_id == conversation_id)
        .where(MESSAGES.c.direction == Direction.INBOUND.value)
        .order_by(MESSAGES.c.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else _queued_inbound(row)


def answer_deferred(session: Session, conversation_id: int, note: str | None) -> None:
    """Messages a bot deferred are answered once its later answer arrives."""
    session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.conversation_id == conversation_id)
        .where(MESSAGES.c.agent_status == AgentStatus.DEFERRED.value)
        .values(agent_status=AgentStatus.ANSWERED.value, note=note)
    )
