"""Replies that do not come from the reply worker's own agent call.

- :func:`send_user_reply`: a person answers from Herald. The conversation
  is handed off (a person is now talking; the agent must not talk over
  them) and the reply is queued.
- :func:`post_agent_answer`: a webhook bot that deferred (HTTP 202) answers
  later through the API. The answer has the bot's inline shape
  (``{"reply": ..., "actions": [...]}``), is validated the same way, and
  has the same effects as an inline answer.

Both only queue the reply and wake the conversation: the reply worker sends
it (same exactly-once rules, same rate limits), usually within a second.
A ``reference`` makes a call idempotent: calling again with the same
reference returns the first reply and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.agent_output import AgentOutputError, read_decision
from herald.domain.channels import Channel
from herald.domain.conversations import (
    Author,
    ConversationAction,
    ConversationStatus,
    ReplyStatus,
    clean_reply_text,
    next_conversation_status,
)
from herald.domain.service_window import is_window_open
from herald.engine.decisions import AgentOptOut, DecisionToApply, apply_decisions
from herald.engine.reply_content import (
    email_subject,
    email_threading,
    new_reply_key,
    unsendable_reason,
)
from herald.errors import ConflictError, ValidationError
from herald.services import agents, optout
from herald.services.conversations import (
    ConversationView,
    conversation_view,
    get_conversation_record,
)
from herald.services.suppression import is_suppressed
from herald.store import conversations as store
from herald.store.conversation_threads import ThreadMessage, find_thread_message, load_campaigns
from herald.store.conversation_work import (
    OutboundReply,
    answer_deferred,
    insert_replies,
    latest_inbound,
)
from herald.store.conversations import CONVERSATION_MESSAGES, ConversationRecord

MAX_REFERENCE_LENGTH = 128
DEFAULT_MAX_REPLY_CHARS = 1000


@dataclass(frozen=True)
class PostedReply:
    """What a call produced; ``dropped`` lists invalid parts of a bot's answer."""

    conversation: ConversationView
    reply: ThreadMessage | None
    dropped: tuple[str, ...] = ()


def record_opt_out(session: Session, opt_out: AgentOptOut, clock: Clock) -> None:
    """An agent's opt-out on the suppression list (reason ``agent_action``)."""
    optout.record_agent_opt_out(
        session,
        opt_out.address,
        opt_out.channel,
        clock=clock,
        campaign_id=opt_out.campaign_id,
        agent_version_id=opt_out.agent_version_id,
    )


def send_user_reply(
    session: Session,
    conversation_id: int,
    text: str,
    *,
    clock: Clock,
    author_name: str | None = None,
    reference: str | None = None,
) -> PostedReply:
    """Queue a person's reply; refused (nothing stored) when it could not be delivered."""
    text = clean_reply_text(text)
    reference = _reference(reference)
    conversation = get_conversation_record(session, conversation_id, for_update=True)
    existing = _existing(session, conversation.id, reference)
    if existing is not None:
        return _posted(session, conversation.id, existing)
    _check_deliverable(session, conversation, clock)
    now = clock.now()
    if conversation.status is not ConversationStatus.HANDED_OFF:
        target = next_conversation_status(conversation.status, ConversationAction.HAND_OFF)
        store.set_status(session, conversation.id, target, now, reason="a user replied")
    inbound = latest_inbound(session, conversation.id)
    reply = OutboundReply(
        id=None,
        conversation_id=conversation.id,
        key=new_reply_key(),
        author=Author.USER,
        author_name=(author_name or "").strip()[:200] or None,
        channel=conversation.channel,
        text=text,
        status=ReplyStatus.QUEUED,
        subject=email_subject(inbound, _campaign_name(session, conversation)),
        thread_ids=email_threading(inbound),
        answers_id=inbound.id if inbound else None,
        client_reference=reference,
    )
    insert_replies(session, [reply], now)
    store.wake(session, conversation.id, now)
    session.commit()
    return _posted(session, conversation.id, reply.key)


def post_agent_answer(
    session: Session,
    conversation_id: int,
    answer: Mapping[str, Any],
    *,
    clock: Clock,
    reference: str | None = None,
) -> PostedReply:
    """A bot's later answer: validated, applied like an inline one, its reply queued.

    Refused with ConflictError when a person has taken the conversation
    over or it is closed: the bot is no longer the one answering.
    """
    reference = _reference(reference)
    conversation = get_conversation_record(session, conversation_id, for_update=True)
    existing = _existing(session, conversation.id, reference)
    if existing is not None:
        return _posted(session, conversation.id, existing)
    if conversation.status is not ConversationStatus.OPEN:
        raise ConflictError(
            f"conversation {conversation.id} is {conversation.status.value.replace('_', ' ')}; "
            "the agent no longer answers it",
            code="agent_not_answering",
        )
    try:
        read = read_decision(answer, max_reply_chars=_max_reply_chars(session, conversation))
    except AgentOutputError as exc:
        raise ValidationError(f"answer: {exc}", field="answer") from exc
    if read.decision.is_silent:
        raise ValidationError("an answer needs a reply or an action", field="answer")
    inbound = latest_inbound(session, conversation.id)
    item = DecisionToApply(
        conversation=conversation,
        decision=read.decision,
        inbound=inbound,
        is_suppressed=is_suppressed(session, conversation.address, conversation.channel),
        campaign_name=_campaign_name(session, conversation),
        client_reference=reference,
        from_queue=False,
    )
    now = clock.now()
    replies = apply_decisions(
        session,
        [item],
        now,
        record_opt_out=lambda s, o: record_opt_out(s, o, clock),
        reply_status=ReplyStatus.QUEUED,
    )
    answer_deferred(session, conversation.id, read.decision.note)
    store.wake(session, conversation.id, now)
    session.commit()
    key = replies[0].key if replies else None
    return _posted(session, conversation.id, key, read.dropped)


def _check_deliverable(session: Session, conversation: ConversationRecord, clock: Clock) -> None:
    unsendable = unsendable_reason(conversation)
    if unsendable is not None:
        raise ConflictError(unsendable[1], code=unsendable[0])
    if is_suppressed(session, conversation.address, conversation.channel):
        raise ConflictError(
            f"{conversation.address} is on the suppression list for {conversation.channel.value}",
            code="address_suppressed",
        )
    if conversation.channel is Channel.WHATSAPP and not is_window_open(
        conversation.last_inbound_at, clock.now()
    ):
        raise ConflictError(
            "WhatsApp allows free-form replies only within 24 hours of the person's last "
            "message; send a template through a campaign instead",
            code="whatsapp_window_closed",
        )


def _reference(reference: str | None) -> str | None:
    if reference is None:
        return None
    reference = reference.strip()
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        raise ValidationError(
            f"reference must be 1 to {MAX_REFERENCE_LENGTH} characters", field="reference"
        )
    return reference


def _existing(session: Session, conversation_id: int, reference: str | None) -> str | None:
    """The key of the reply an earlier call with ``reference`` made, if any."""
    if reference is None:
        return None
    return session.scalar(
        select(CONVERSATION_MESSAGES.c.key).where(
            CONVERSATION_MESSAGES.c.conversation_id == conversation_id,
            CONVERSATION_MESSAGES.c.client_reference == reference,
        )
    )


def _posted(
    session: Session, conversation_id: int, key: str | None, dropped: tuple[str, ...] = ()
) -> PostedReply:
    view = conversation_view(session, conversation_id)
    reply = find_thread_message(session, key) if key else None
    return PostedReply(view, reply, dropped)


def _campaign_name(session: Session, conversation: ConversationRecord) -> str | None:
    if conversation.campaign_id is None:
        return None
    campaign = load_campaigns(session, [conversation.campaign_id]).get(conversation.campaign_id)
    return campaign.name if campaign else None


def _max_reply_chars(session: Session, conversation: ConversationRecord) -> int:
    if conversation.agent_version_id is None:
        return DEFAULT_MAX_REPLY_CHARS
    config = agents.get_version(session, conversation.agent_version_id).config
    value = config.get("max_reply_chars")
    return value if isinstance(value, int) else DEFAULT_MAX_REPLY_CHARS
