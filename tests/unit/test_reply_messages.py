"""Replies as provider messages, and providers' answers as reply statuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from herald.channels.base import (
    EmailContent,
    OutboundMessage,
    ProviderFailure,
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
    SmsContent,
    WhatsAppTextContent,
)
from herald.domain.channels import Channel, IntegrationKind
from herald.domain.conversations import Author, ConversationStatus, ReplyStatus
from herald.engine.reply_content import (
    PendingReply,
    email_subject,
    email_threading,
    reply_message,
    unsendable_reason,
)
from herald.engine.reply_results import result_change
from herald.store.conversation_work import OutboundReply, QueuedInbound
from herald.store.conversations import ConversationRecord

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CONVERSATION = ConversationRecord(
    id=1,
    thread_key="journey:1:whatsapp",
    channel=Channel.WHATSAPP,
    address="+12025550101",
    integration_id=4,
    campaign_id=2,
    journey_id=1,
    agent_version_id=1,
    status=ConversationStatus.OPEN,
    outcome=None,
    hand_off_reason=None,
    created_at=NOW,
    updated_at=NOW,
    last_message_at=NOW,
    last_inbound_at=NOW - timedelta(minutes=5),
    unread_count=1,
)
REPLY = OutboundReply(
    id=None,
    conversation_id=1,
    key="r1",
    author=Author.AGENT,
    channel=Channel.WHATSAPP,
    text="See you!",
    status=ReplyStatus.SENDING,
)
EMAIL_IN = QueuedInbound(
    id=9,
    conversation_id=1,
    key="email_smtp:in:<r1@x.org>",
    channel=Channel.EMAIL,
    text="Yes",
    at=NOW,
    provider_message_id="<r1@x.org>",
    payload=None,
    subject="Re: Your visit",
    thread_ids=("<c1@mail.test>", "not-an-id", "<c1@mail.test>", "<c0@mail.test>"),
)


def test_whatsapp_replies_carry_the_window_the_person_opened() -> None:
    message = reply_message(REPLY, CONVERSATION)
    assert message == OutboundMessage(
        "r1",
        "+12025550101",
        WhatsAppTextContent("See you!", last_inbound_at=CONVERSATION.last_inbound_at),
    )


def test_sms_replies_are_plain_text() -> None:
    sms = replace(CONVERSATION, channel=Channel.SMS)
    assert reply_message(REPLY, sms).content == SmsContent("See you!")


def test_email_replies_thread_under_the_person_s_message() -> None:
    threading = email_threading(EMAIL_IN)
    assert threading == ("<r1@x.org>", "<c1@mail.test>", "<c0@mail.test>")
    assert email_subject(EMAIL_IN, "Visits") == "Re: Your visit"
    email = replace(CONVERSATION, channel=Channel.EMAIL, address="alex@example.com")
    reply = replace(REPLY, subject="Re: Your visit", thread_ids=threading)
    content = reply_message(reply, email).content
    assert content == EmailContent(
        subject="Re: Your visit",
        text="See you!",
        in_reply_to="<r1@x.org>",
        references=("<c1@mail.test>", "<c0@mail.test>"),
    )


def test_messages_of_other_channels_carry_no_email_threading() -> None:
    sms_in = replace(EMAIL_IN, channel=Channel.SMS)
    assert (email_threading(sms_in), email_subject(sms_in, "x")) == ((), None)


def test_voice_and_unknown_numbers_cannot_be_answered() -> None:
    assert unsendable_reason(CONVERSATION) is None
    voice = replace(CONVERSATION, channel=Channel.VOICE)
    assert unsendable_reason(voice) is not None
    assert unsendable_reason(voice)[0] == "voice_no_reply"  # type: ignore[index]
    nowhere = replace(CONVERSATION, integration_id=None)
    assert unsendable_reason(nowhere)[0] == "no_integration"  # type: ignore[index]


FAILURE = ProviderFailure(
    IntegrationKind.WHATSAPP, "131000", "Something went wrong", http_status=500
)
SEND = PendingReply(1, 4, OutboundMessage("r1", "+12025550101", SmsContent("hi")), attempts=1)


@pytest.mark.parametrize(
    ("result", "status", "provider_id", "code"),
    [
        (SendAccepted("wamid.1"), ReplyStatus.ACCEPTED, "wamid.1", None),
        (SendUnknown("read timeout"), ReplyStatus.UNKNOWN, None, None),
        (SendTerminal(FAILURE), ReplyStatus.REJECTED, None, "131000"),
        (SendRetryable(FAILURE), ReplyStatus.QUEUED, None, "131000"),
    ],
)
def test_answers_become_statuses_from_sending_only(
    result: SendResult, status: ReplyStatus, provider_id: str | None, code: str | None
) -> None:
    change = result_change(SEND, result, NOW)
    assert (change.key, change.status, change.provider_message_id, change.error_code) == (
        "r1",
        status,
        provider_id,
        code,
    )
    assert change.from_statuses == (ReplyStatus.SENDING,)


def test_a_retry_waits_at_least_what_the_provider_asks_then_gives_up() -> None:
    change = result_change(SEND, SendRetryable(FAILURE, retry_after_seconds=90), NOW)
    assert change.retry_at == NOW + timedelta(seconds=90)
    throttled = result_change(replace(SEND, attempts=11), SendRetryable(FAILURE), NOW)
    assert throttled.status is ReplyStatus.REJECTED and "gave up" in (throttled.error_detail or "")
    error = replace(FAILURE, code="timeout", http_status=None)
    assert result_change(replace(SEND, attempts=4), SendRetryable(error), NOW).retry_at
    gave_up = result_change(replace(SEND, attempts=5), SendRetryable(error), NOW)
    assert gave_up.status is ReplyStatus.REJECTED
