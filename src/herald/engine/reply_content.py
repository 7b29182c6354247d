"""Replies as channel messages: on the channel the person used, through the same number.

- WhatsApp: free-form text. It is allowed only inside the 24-hour window the
  person's last message opened; the conversation's ``last_inbound_at`` goes
  with the message so the client refuses a late reply before calling Meta.
- SMS: plain text.
- Email: ``Re:`` and the person's subject, threaded with ``In-Reply-To`` (their
  message) and ``References`` (the thread they answered), so mail clients
  show the reply in the same thread.
- Voice: not answered. A keypress is an inbound message, but calling the
  person back to read a reply out would be a new call they did not ask for;
  the reply is recorded as ``not_sent`` with the reason, for a person to see.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from herald.channels.base import (
    EmailContent,
    MessageContent,
    OutboundMessage,
    SmsContent,
    WhatsAppTextContent,
)
from herald.domain.channels import Channel
from herald.domain.conversations import reply_subject
from herald.store.conversation_work import OutboundReply, QueuedInbound
from herald.store.conversations import ConversationRecord

DEFAULT_EMAIL_SUBJECT = "Your message"
_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")

VOICE_NOT_ANSWERED = (
    "voice_no_reply",
    "Herald does not call back to answer a voice message; call the person if needed",
)
NO_INTEGRATION = (
    "no_integration",
    "no integration of this channel is known for the number the person wrote to",
)


@dataclass(frozen=True)
class PendingReply:
    """A reply whose intent is recorded (status ``sending``): one provider call to make.

    ``campaign_id`` is None: a paused campaign holds back its own messages,
    never the answers to people who wrote to it.
    """

    conversation_id: int
    integration_id: int
    message: OutboundMessage
    attempts: int
    campaign_id: int | None = None


def new_reply_key() -> str:
    """A correlation key for one reply; providers echo it in the reply's statuses."""
    return f"r{uuid.uuid4().hex}"


def unsendable_reason(conversation: ConversationRecord) -> tuple[str, str] | None:
    """``(error code, detail)`` when replies cannot go out in this conversation."""
    if conversation.channel is Channel.VOICE:
        return VOICE_NOT_ANSWERED
    if conversation.integration_id is None:
        return NO_INTEGRATION
    return None


def email_threading(inbound: QueuedInbound | None) -> tuple[str, ...]:
    """Message-IDs to thread an answer to ``inbound``: the parent first, then its thread.

    Ids that are not ``<local@domain>`` are left out: a mail server would
    reject the header, and the send with it.
    """
    if inbound is None or inbound.channel is not Channel.EMAIL:
        return ()
    candidates = (inbound.provider_message_id or "", *inbound.thread_ids)
    return tuple(dict.fromkeys(c.strip() for c in candidates if _MESSAGE_ID.match(c.strip())))


def email_subject(inbound: QueuedInbound | None, campaign_name: str | None) -> str | None:
    if inbound is None or inbound.channel is not Channel.EMAIL:
        return None
    return reply_subject(inbound.subject, campaign_name or DEFAULT_EMAIL_SUBJECT)


def reply_message(reply: OutboundReply, conversation: ConversationRecord) -> OutboundMessage:
    """The provider message for a reply in ``conversation``; the channel must be sendable."""
    return OutboundMessage(reply.key, conversation.address, _content(reply, conversation))


def _content(reply: OutboundReply, conversation: ConversationRecord) -> MessageContent:
    match conversation.channel:
        case Channel.WHATSAPP:
            return WhatsAppTextContent(
                body=reply.text, last_inbound_at=conversation.last_inbound_at
            )
        case Channel.SMS:
            return SmsContent(text=reply.text)
        case Channel.EMAIL:
            ids = reply.thread_ids
            return EmailContent(
                subject=reply.subject or reply_subject(None, DEFAULT_EMAIL_SUBJECT),
                text=reply.text,
                in_reply_to=ids[0] if ids else None,
                references=ids[1:],
            )
        case Channel.VOICE:
            raise ValueError("voice conversations are not answered by a call")
