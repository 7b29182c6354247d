"""Inbound messages and provider events applied to the suppression list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from herald.channels.base import InboundMessage
from herald.domain.agents import Direction
from herald.domain.channels import Channel, IntegrationKind
from herald.domain.optout import OptIntent, OptOutPolicy
from herald.domain.suppression import SuppressionReason
from herald.services.optout import (
    apply_opt_keywords,
    conversation_message,
    record_agent_opt_out,
    record_hard_bounce,
    record_one_click_unsubscribe,
    record_provider_opt_out,
)
from herald.services.suppression import is_suppressed, list_suppressions
from herald.store.database import create_session_factory
from herald.testing import FakeClock

PHONE = "+12025550101"


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with create_session_factory(engine)() as session:
        yield session


def inbound(
    text: str,
    provider: IntegrationKind = IntegrationKind.INFOBIP_SMS,
    sender: str = PHONE,
    payload: str | None = None,
) -> InboundMessage:
    return InboundMessage(
        provider=provider,
        provider_message_id=f"m-{text}-{payload}",
        sender=sender,
        recipient="HERALD",
        text=text,
        received_at=datetime(2025, 1, 6, 9, 5, tzinfo=UTC),
        payload=payload,
    )


SPELLINGS = ["STOP", " stop! ", "Arrêt", "BAJA", "Stopp", "opt-out", "Descadastrar"]


def test_stop_in_any_spelling_or_language_suppresses_the_sender_everywhere(
    session: Session,
) -> None:
    for n, text in enumerate(SPELLINGS):
        sender = f"+1202555{n:04d}"
        outcome = apply_opt_keywords(
            session, inbound(text, sender=sender), clock=FakeClock(), campaign_id=3
        )
        assert outcome.detection.intent is OptIntent.OPT_OUT and outcome.newly_suppressed, text
        assert all(is_suppressed(session, sender, channel) for channel in Channel), text
    entries = list_suppressions(session).items
    assert [e.detail for e in entries] == [text.strip() for text in SPELLINGS]
    assert {(e.reason, e.channel, e.source_campaign_id) for e in entries} == {
        (SuppressionReason.KEYWORD, Channel.SMS, 3)
    }


def test_a_repeated_stop_is_not_new(session: Session) -> None:
    clock = FakeClock()
    apply_opt_keywords(session, inbound("STOP"), clock=clock)
    again = apply_opt_keywords(session, inbound("Unsubscribe"), clock=clock)
    assert again.detection.is_opt_out and not again.newly_suppressed


def test_an_ordinary_reply_changes_nothing(session: Session) -> None:
    outcome = apply_opt_keywords(session, inbound("Yes, see you then"), clock=FakeClock())
    assert outcome.detection.intent is OptIntent.NONE
    assert list_suppressions(session).items == ()


def test_yes_lifts_only_a_suppressed_sms_sender(session: Session) -> None:
    clock = FakeClock()
    assert apply_opt_keywords(session, inbound("YES"), clock=clock).detection.intent is (
        OptIntent.NONE
    )
    apply_opt_keywords(session, inbound("STOP"), clock=clock)
    outcome = apply_opt_keywords(session, inbound("yes"), clock=clock)
    assert outcome.detection.is_opt_in and outcome.lifted == 1
    assert not is_suppressed(session, PHONE, Channel.SMS)


def test_whatsapp_payload_with_bare_digits_and_start_after_sms_stop(session: Session) -> None:
    clock = FakeClock()
    tap = inbound("Stop promotions", IntegrationKind.WHATSAPP, "12025550101", payload="OPT_OUT")
    outcome = apply_opt_keywords(session, tap, clock=clock)
    assert outcome.newly_suppressed and is_suppressed(session, PHONE, Channel.VOICE)
    assert list_suppressions(session).items[0].detail == "payload OPT_OUT"
    start = apply_opt_keywords(session, inbound("START", IntegrationKind.WHATSAPP), clock=clock)
    assert start.lifted == 1 and not is_suppressed(session, PHONE, Channel.SMS)


def test_email_unsubscribe_reply_and_no_keyword_opt_in(session: Session) -> None:
    clock = FakeClock()
    email = "ana@example.com"
    reply = inbound("Unsubscribe\n\nOn Mon, Clinic wrote:\n> Hi", IntegrationKind.EMAIL_SMTP, email)
    assert apply_opt_keywords(session, reply, clock=clock).newly_suppressed
    start = apply_opt_keywords(
        session, inbound("START", IntegrationKind.EMAIL_SMTP, email), clock=clock
    )
    assert start.detection.intent is OptIntent.NONE and start.lifted == 0
    assert is_suppressed(session, email, Channel.EMAIL)


def test_voice_keypress_with_the_campaign_digit(session: Session) -> None:
    press = inbound("", IntegrationKind.TWILIO_VOICE, payload="9")
    policy = OptOutPolicy(voice_opt_out_digit="9")
    assert not apply_opt_keywords(session, press, clock=FakeClock()).detection.is_opt_out
    assert apply_opt_keywords(session, press, clock=FakeClock(), policy=policy).newly_suppressed
    assert list_suppressions(session).items[0].detail == "key 9"


def test_other_sources_record_their_reason(session: Session) -> None:
    clock = FakeClock()
    record_agent_opt_out(session, PHONE, Channel.WHATSAPP, clock=clock, agent_version_id=4)
    record_provider_opt_out(session, "+34600111222", Channel.WHATSAPP, "131050", clock=clock)
    record_one_click_unsubscribe(session, "Bob@Example.com", clock=clock, campaign_id=9)
    record_hard_bounce(session, "gone@example.com", "5.1.1", clock=clock)
    got = {(e.address, e.reason, e.detail) for e in list_suppressions(session).items}
    assert got == {
        (PHONE, SuppressionReason.AGENT_ACTION, "agent version 4"),
        ("+34600111222", SuppressionReason.PROVIDER_OPT_OUT, "provider code 131050"),
        ("bob@example.com", SuppressionReason.ONE_CLICK_UNSUBSCRIBE, None),
        ("gone@example.com", SuppressionReason.HARD_BOUNCE, "bounce 5.1.1"),
    }


def test_inbound_messages_convert_for_agents() -> None:
    message = conversation_message(inbound("Hi", IntegrationKind.WHATSAPP, payload="B1"))
    assert (message.direction, message.channel, message.text, message.payload) == (
        Direction.INBOUND,
        Channel.WHATSAPP,
        "Hi",
        "B1",
    )
