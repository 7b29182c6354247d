"""Applying agent decisions to conversations, in one transaction per batch.

A decision (validated when it was built, see :class:`AgentDecision`) becomes:

- tags on the conversation (source ``agent``); the outcome label;
- a hand-off: the conversation goes to a person (status ``handed_off``) and
  the agent answers it no more;
- an opt-out: the address goes on the suppression list (through the injected
  recorder, reason ``agent_action``) *and* the journey, if the conversation
  has one, is fed an ``OptOut`` through the inbox — a routed event, keyed per
  conversation so applying it twice inserts nothing;
- the reply: recorded as an intent (status ``sending``) before any provider
  call, or as ``suppressed`` / ``not_sent`` with the reason when it cannot go.

The reply worker and the bots' "answer later" service both come here, so an
answer has the same effects whichever way it arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from herald.channels.base import InboundMessage
from herald.channels.codec import event_to_json
from herald.domain.agents import AgentDecision, never_silent
from herald.domain.channels import CHANNEL_OF_KIND, Channel
from herald.domain.conversations import AgentStatus, Author, ConversationStatus, ReplyStatus
from herald.engine.journey_store import wake_journeys
from herald.engine.reply_content import (
    email_subject,
    email_threading,
    new_reply_key,
    unsendable_reason,
)
from herald.store.conversation_tags import add_tags
from herald.store.conversation_work import (
    OutboundReply,
    QueuedInbound,
    insert_replies,
    note_answers,
    take_for_answer,
)
from herald.store.conversations import CONVERSATIONS, ConversationRecord
from herald.store.inbox import insert_new_events

logger = logging.getLogger(__name__)
KIND_OF_CHANNEL = {channel: kind for kind, channel in CHANNEL_OF_KIND.items()}
AGENT_OPT_OUT_ROUTE = "agent_opt_out"
AGENT_OPT_OUT_TEXT = "opt-out decided by the agent"


@dataclass(frozen=True)
class AgentOptOut:
    """An agent's opt-out, for the suppression list."""

    address: str
    channel: Channel
    campaign_id: int | None
    agent_version_id: int | None


OptOutRecorder = Callable[[Session, AgentOptOut], None]


@dataclass(frozen=True)
class DecisionToApply:
    """One decision and what it answers.

    ``inbound`` is the message answered (the reply threads under it). The
    reply worker takes it off the agent's queue (``from_queue``); a bot's
    later answer through the API only answers it (it was deferred).
    ``is_suppressed`` says the address was suppressed *before* this decision,
    so its reply must not go (an opt-out confirmation of this very decision
    still goes).
    """

    conversation: ConversationRecord
    decision: AgentDecision
    inbound: QueuedInbound | None = None
    is_suppressed: bool = False
    campaign_name: str | None = None
    client_reference: str | None = None
    from_queue: bool = True

    @property
    def queued_id(self) -> int | None:
        return self.inbound.id if self.inbound is not None and self.from_queue else None


def apply_decisions(
    session: Session,
    items: Sequence[DecisionToApply],
    now: datetime,
    *,
    record_opt_out: OptOutRecorder,
    reply_status: ReplyStatus = ReplyStatus.SENDING,
) -> list[OutboundReply]:
    """Apply every decision; return the replies recorded (any status), in order.

    A reply that can go is recorded with ``reply_status``: ``sending`` when the
    caller sends it right after committing (the reply worker), ``queued``
    when the reply worker will (an answer posted through the API).
    """
    taken = take_for_answer(session, [i.queued_id for i in items if i.queued_id is not None])
    safe = [
        (item, never_silent(item.decision, None))
        for item in items
        if item.queued_id is None or item.queued_id in taken
    ]
    if len(safe) < len(items):
        logger.warning(
            "%d answers dropped: their messages were answered meanwhile", len(items) - len(safe)
        )
    # Journeys before conversations: the lock order of every writer.
    feed_journey_opt_outs(
        session, [item.conversation for item, decision in safe if decision.opt_out], now
    )
    replies: list[OutboundReply] = []
    settled: list[tuple[int, AgentStatus, str | None]] = []
    for item, decision in safe:
        _apply_actions(session, item.conversation, decision, now, record_opt_out)
        if item.queued_id is not None:
            status = AgentStatus.DEFERRED if decision.deferred else AgentStatus.ANSWERED
            settled.append((item.queued_id, status, decision.note))
        if decision.reply is not None:
            replies.append(_reply(item, decision.reply, decision.note, reply_status))
    note_answers(session, settled)
    insert_replies(session, replies, now)
    return replies


def _apply_actions(
    session: Session,
    conversation: ConversationRecord,
    decision: AgentDecision,
    now: datetime,
    record_opt_out: OptOutRecorder,
) -> None:
    if decision.opt_out:
        record_opt_out(
            session,
            AgentOptOut(
                conversation.address,
                conversation.channel,
                conversation.campaign_id,
                conversation.agent_version_id,
            ),
        )
    if decision.tags:
        add_tags(session, conversation.id, decision.tags, Author.AGENT, now)
    values: dict[str, Any] = {"updated_at": now}
    if decision.outcome is not None:
        values["outcome"] = decision.outcome
    if decision.hand_off and conversation.status is ConversationStatus.OPEN:
        values["status"] = ConversationStatus.HANDED_OFF.value
        values["hand_off_reason"] = decision.note or "the agent handed off"
    session.execute(
        update(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation.id).values(**values)
    )


def _reply(
    item: DecisionToApply, text: str, note: str | None, sendable: ReplyStatus
) -> OutboundReply:
    conversation = item.conversation
    status, code, detail = sendable, None, None
    unsendable = unsendable_reason(conversation)
    if unsendable is not None:
        status, (code, detail) = ReplyStatus.NOT_SENT, unsendable
    elif item.is_suppressed:
        status, code = ReplyStatus.SUPPRESSED, "suppressed"
        detail = "the address is on the suppression list"
    return OutboundReply(
        id=None,
        conversation_id=conversation.id,
        key=new_reply_key(),
        author=Author.AGENT,
        channel=conversation.channel,
        text=text,
        status=status,
        subject=email_subject(item.inbound, item.campaign_name)
        if conversation.channel is Channel.EMAIL
        else None,
        thread_ids=email_threading(item.inbound),
        answers_id=item.inbound.id if item.inbound else None,
        client_reference=item.client_reference,
        error_code=code,
        error_detail=detail,
        note=note,
        attempts=1 if status is ReplyStatus.SENDING else 0,
    )


def feed_journey_opt_outs(
    session: Session, conversations: Sequence[ConversationRecord], now: datetime
) -> None:
    """Give each conversation's journey an ``OptOut``, through the inbox, once.

    The event is already routed (the journey worker reads routed,
    unprocessed events of the journeys it claims) and its journey is woken.
    """
    with_journeys = sorted(
        (c for c in conversations if c.journey_id is not None), key=lambda c: c.journey_id or 0
    )
    if not with_journeys:
        return
    rows = [_opt_out_event(conversation, now) for conversation in with_journeys]
    journey_ids = sorted({c.journey_id for c in with_journeys if c.journey_id is not None})
    wake_journeys(session, journey_ids, now)
    insert_new_events(session, rows)


def _opt_out_event(conversation: ConversationRecord, now: datetime) -> dict[str, Any]:
    event = InboundMessage(
        provider=KIND_OF_CHANNEL[conversation.channel],
        provider_message_id=f"agent-opt-out-{conversation.id}",
        sender=conversation.address,
        recipient="",
        text=AGENT_OPT_OUT_TEXT,
        received_at=now,
    )
    return {
        "dedupe_key": f"{AGENT_OPT_OUT_ROUTE}:{conversation.id}",
        "provider": event.provider.value,
        "kind": "inbound",
        "provider_message_id": event.provider_message_id,
        "correlation_key": None,
        "payload": event_to_json(event),
        "received_at": now,
        "routed_at": now,
        "journey_id": conversation.journey_id,
        "route": AGENT_OPT_OUT_ROUTE,
    }
