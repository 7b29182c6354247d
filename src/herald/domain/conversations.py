"""Conversations: who speaks, which states a conversation goes through, tags, paging.

A conversation is one thread with one person on one channel address. Its
status says who answers::

    open ──hand off──> handed_off ──back to agent──> open
      │                   │
      └──close──> closed <┘        closed ──reopen / the person writes──> open

- ``open``: the agent answers every inbound message.
- ``handed_off``: a person answers; the agent stays silent. Messages from
  the contact do not change it: the person keeps the conversation.
- ``closed``: nothing left to do. A new message from the contact reopens it
  (the agent answers it), because a closed thread must not swallow a reply.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NewType

from herald.domain.agents import TAG_PATTERN, normalize_tag
from herald.domain.channels import Channel
from herald.errors import IllegalTransitionError, ValidationError

ConversationId = NewType("ConversationId", int)

MAX_TAGS_PER_CONVERSATION = 50
REPLY_MAX_CHARS = 4096


class ConversationStatus(StrEnum):
    OPEN = "open"
    HANDED_OFF = "handed_off"
    CLOSED = "closed"


class ConversationAction(StrEnum):
    HAND_OFF = "hand_off"
    RETURN_TO_AGENT = "return_to_agent"
    CLOSE = "close"
    REOPEN = "reopen"


TRANSITIONS: dict[tuple[ConversationStatus, ConversationAction], ConversationStatus] = {
    (ConversationStatus.OPEN, ConversationAction.HAND_OFF): ConversationStatus.HANDED_OFF,
    (ConversationStatus.CLOSED, ConversationAction.HAND_OFF): ConversationStatus.HANDED_OFF,
    (ConversationStatus.HANDED_OFF, ConversationAction.RETURN_TO_AGENT): ConversationStatus.OPEN,
    (ConversationStatus.OPEN, ConversationAction.CLOSE): ConversationStatus.CLOSED,
    (ConversationStatus.HANDED_OFF, ConversationAction.CLOSE): ConversationStatus.CLOSED,
    (ConversationStatus.CLOSED, ConversationAction.REOPEN): ConversationStatus.OPEN,
}


def next_conversation_status(
    status: ConversationStatus, action: ConversationAction
) -> ConversationStatus:
    """Where ``action`` takes a conversation; IllegalTransitionError when nowhere."""
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise IllegalTransitionError(
            f"cannot {action.value.replace('_', ' ')} a conversation that is "
            f"{status.value.replace('_', ' ')}",
            field="status",
        )
    return target


def status_after_inbound(status: ConversationStatus) -> ConversationStatus:
    """A message from the contact reopens a closed conversation; nothing else changes."""
    return ConversationStatus.OPEN if status is ConversationStatus.CLOSED else status


class Author(StrEnum):
    """Who wrote a message: the person, the agent, a user of Herald, or the campaign."""

    CONTACT = "contact"
    AGENT = "agent"
    USER = "user"
    CAMPAIGN = "campaign"


class AgentStatus(StrEnum):
    """What became of an inbound message on the agent's side."""

    QUEUED = "queued"  # waiting for the reply worker
    ANSWERED = "answered"  # the agent decided (the reply, if any, is the next message)
    DEFERRED = "deferred"  # a webhook bot will answer through the API
    SKIPPED = "skipped"  # not for the agent: opt-out, handed off, suppressed...


class ReplyStatus(StrEnum):
    """An outbound reply's life.

    ``queued`` (a user's or a bot's reply waiting for the worker) becomes
    ``sending`` in the transaction that precedes the provider call; a
    ``sending`` row found by a later worker is ``unknown`` and never resent.
    The provider's answer gives ``accepted``, ``rejected`` or ``unknown``;
    webhooks then move it forward (``sent``, ``delivered``, ``read``,
    ``failed``). ``suppressed`` and ``not_sent`` never left Herald.
    """

    QUEUED = "queued"
    SENDING = "sending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    NOT_SENT = "not_sent"


# Statuses a delivery webhook may move a reply from (order: sent < delivered < read).
WEBHOOK_FROM: dict[str, tuple[str, ...]] = {
    "sent": ("sending", "accepted", "unknown"),
    "delivered": ("sending", "accepted", "unknown", "sent"),
    "read": ("sending", "accepted", "unknown", "sent", "delivered"),
    "failed": ("sending", "accepted", "unknown", "sent"),
}


def journey_thread_key(journey_id: int, channel: Channel) -> str:
    """The identity of a campaign conversation: one per journey and channel."""
    return f"journey:{journey_id}:{channel.value}"


def address_thread_key(channel: Channel, integration_id: int | None, address: str) -> str:
    """The identity of a conversation no campaign opened: per channel, number and address."""
    return f"address:{channel.value}:{integration_id or 0}:{address}"


def clean_user_tags(tags: list[str] | tuple[str, ...], *, field: str = "tags") -> tuple[str, ...]:
    """Tags a user typed, in conversation form; refuses (never rewrites) bad ones.

    The error proposes the accepted spelling, as campaign tags do.
    """
    cleaned: list[str] = []
    for index, tag in enumerate(tags):
        if not isinstance(tag, str) or not TAG_PATTERN.fullmatch(tag):
            suggestion = normalize_tag(tag) if isinstance(tag, str) else None
            hint = f"; try {suggestion!r}" if suggestion else ""
            raise ValidationError(
                f"tag {tag!r} must be lower-case letters, digits, '-' or '_' (at most 64){hint}",
                code="invalid_tag",
                field=f"{field}[{index}]",
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if not cleaned:
        raise ValidationError("give at least one tag", code="invalid_tag", field=field)
    return tuple(cleaned)


def clean_reply_text(text: str, *, field: str = "text") -> str:
    """A reply a user or a bot asks Herald to send: non-blank, bounded."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not stripped:
        raise ValidationError("the reply is empty", field=field)
    if len(stripped) > REPLY_MAX_CHARS:
        raise ValidationError(
            f"the reply has {len(stripped)} characters; the limit is {REPLY_MAX_CHARS}",
            field=field,
        )
    return stripped


def reply_subject(subject: str | None, fallback: str) -> str:
    """The subject of an email answer: ``Re:`` and the person's subject, once."""
    base = (subject or "").strip() or fallback
    return base if base[:3].lower() == "re:" else f"Re: {base}"


@dataclass(frozen=True)
class Cursor:
    """Where a page of conversations ends: newest activity first, then higher id."""

    last_message_at: datetime
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.last_message_at.isoformat(), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            at, conversation_id = json.loads(raw)
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None or not isinstance(conversation_id, int):
                raise ValueError("not a cursor")
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise ValidationError(
                "cursor is not one Herald issued", code="invalid_cursor", field="cursor"
            ) from exc
        return cls(moment, conversation_id)
