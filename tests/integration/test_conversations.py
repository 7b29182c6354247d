"""Replies end to end: conversations, the default agent, tags, hand-off, opt-out.

Campaigns run on the journey engine with in-memory channels; replies come in
through the same inbox the webhooks write to; the reply worker runs the real
built-in rules agent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from herald.channels.base import (
    DeliveryStatus,
    DeliveryUpdate,
    ProviderFailure,
    SendAccepted,
    SendRetryable,
    SmsContent,
    WhatsAppTextContent,
)
from herald.domain.channels import Channel, IntegrationKind
from herald.engine.keys import message_key
from herald.services.suppression import list_suppressions
from herald.store.journeys import JOURNEY_LOG
from tests.support.conversations import ConversationHarness
from tests.support.engine import WHATSAPP, reminder_journey, sms_step

WA = IntegrationKind.WHATSAPP
SMS = IntegrationKind.INFOBIP_SMS
ALEX = "+12025550101"
JAMIE = "+442071838750"
CONFIRMED = "Thank you, your appointment is confirmed. See you soon!"
CSV = (
    "email,phone,name,appointment_date\n"
    f"alex@example.com,{ALEX},Alex,2025-03-10\n"
    f"jamie@example.net,{JAMIE},Jamie,2025-03-11\n"
)


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[ConversationHarness]:
    harness = ConversationHarness.create(database_url, tmp_path)
    yield harness
    harness.close()


def status(
    harness: ConversationHarness,
    journey_id: int,
    step: int = 0,
    kind: IntegrationKind = WA,
    value: DeliveryStatus = DeliveryStatus.DELIVERED,
) -> None:
    harness.deliver(
        DeliveryUpdate(
            provider=kind,
            provider_message_id=f"pm-{journey_id}-{step}-{value}",
            status=value,
            occurred_at=harness.clock.now(),
            correlation_key=message_key(journey_id, step),
        )
    )


def thread(harness: ConversationHarness, address: str, channel: str | None = None) -> list[str]:
    """``author: text`` lines of the conversation with ``address``."""
    detail = harness.conversation_of(address, channel)
    return [f"{m.author.value}: {m.text}" for m in detail.messages]


def test_a_reply_stops_the_follow_up_and_the_agent_answers_on_the_same_channel(
    harness: ConversationHarness,
) -> None:
    campaign = harness.launch_campaign(CSV, reminder_journey(), extra_tags=("spring",))
    harness.settle()
    alex, _jamie = harness.journey_ids(campaign)
    status(harness, alex)
    harness.settle()
    harness.clock.advance(timedelta(hours=3))
    harness.write(ALEX, "Yes, I'll be there!")
    harness.settle()

    answer = harness.channels[WA].sent[-1]
    assert answer.to == ALEX and isinstance(answer.content, WhatsAppTextContent)
    assert answer.content.body == CONFIRMED
    # The 24-hour window is the one the person's message opened.
    assert answer.content.last_inbound_at == harness.clock.now()
    harness.clock.advance(timedelta(days=3))
    harness.settle()
    assert harness.texts(SMS, ALEX) == []  # no follow-up, no fallback
    assert harness.outcomes(campaign)["replied"] == 1

    detail = harness.conversation_of(ALEX)
    view = detail.conversation
    assert view.tags == ("reminders", "spring", "confirmed")
    assert (view.outcome, view.status.value, view.unread_count) == ("confirmed", "open", 1)
    assert view.campaign_name == "Reminders" and view.channel is Channel.WHATSAPP
    assert [(m.author.value, m.status) for m in detail.messages] == [
        ("campaign", "delivered"),
        ("contact", "received"),
        ("agent", "accepted"),
    ]
    reply = detail.messages[2]
    assert reply.text == CONFIRMED and reply.provider_message_id is not None
    # The reply's own delivery status comes back through the router.
    harness.deliver(
        DeliveryUpdate(
            provider=WA,
            provider_message_id=reply.provider_message_id,
            status=DeliveryStatus.READ,
            occurred_at=harness.clock.now(),
            correlation_key=answer.key,
        )
    )
    harness.settle()
    assert harness.conversation_of(ALEX).messages[2].status == "read"


def test_agent_tags_outcome_and_hand_off_apply_and_a_handed_off_conversation_gets_no_agent(
    harness: ConversationHarness,
) -> None:
    campaign = harness.launch_campaign(CSV, reminder_journey())
    harness.settle()
    status(harness, harness.journey_ids(campaign)[1])
    harness.settle()
    harness.write(JAMIE, "Sorry, I can't make it. Another day?")
    harness.settle()
    view = harness.conversation_of(JAMIE).conversation
    assert "reschedule" in view.tags and view.outcome == "reschedule"
    assert view.status.value == "handed_off"
    sent_before = len(harness.channels[WA].sent)

    harness.write(JAMIE, "Hello? Anyone there?")
    harness.settle()
    assert len(harness.channels[WA].sent) == sent_before  # a person answers now
    last = harness.conversation_of(JAMIE).messages[-1]
    assert (last.agent_status, last.note) == ("skipped", "conversation handed off")

    with harness.herald.sessions() as session:
        harness.conversations.return_to_agent(session, view.id)
    harness.write(JAMIE, "Hi")
    harness.settle()
    assert harness.texts(WA, JAMIE)[-1].startswith("Hello Jamie!")


@pytest.mark.parametrize(
    "words",
    [("STOP", "Stop!", "arrêt"), ("BAJA", "Abmelden", "opt-out")],
    ids=["english-french", "spanish-german-hyphen"],
)
def test_stop_in_any_spelling_suppresses_across_campaigns_without_an_agent_reply(
    harness: ConversationHarness, words: tuple[str, str, str]
) -> None:
    people = ["+12025550111", "+12025550112", "+12025550113"]
    csv = "phone,name\n" + "".join(f"{p},P{i}\n" for i, p in enumerate(people))
    first = harness.launch_campaign(csv, {"primary": sms_step("Hi {{name}}")})
    harness.settle()
    for person, word in zip(people, words, strict=True):
        harness.write(person, word, kind=SMS, recipient="Herald")
    harness.settle()
    for index, person in enumerate(people):
        assert harness.texts(SMS, person) == [f"Hi P{index}"]  # no agent reply
    assert harness.outcomes(first) == {"opted_out": 3}
    with harness.herald.sessions() as session:
        entries = list_suppressions(session).items
    assert sorted((e.address, e.reason.value) for e in entries) == [
        (person, "keyword") for person in people
    ]
    for person, word in zip(people, words, strict=True):
        last = harness.conversation_of(person).messages[-1]
        assert (last.text, last.agent_status) == (word, "skipped")

    second = harness.launch_campaign(csv, {"primary": sms_step("Again {{name}}")}, name="Again")
    harness.settle()
    assert harness.outcomes(second) == {"opted_out": 3}
    assert not any(t.startswith("Again") for p in people for t in harness.texts(SMS, p))


def test_a_message_from_an_unknown_number_opens_an_untagged_conversation(
    harness: ConversationHarness,
) -> None:
    with harness.herald.sessions() as session:
        second = harness.herald.integrations.create(
            session,
            name="second-number",
            kind="whatsapp",
            settings=WHATSAPP | {"phone_number_id": "200000000000001"},
        )
    harness.write("+15551230000", "Hello", recipient="200000000000001")
    harness.settle()
    detail = harness.conversation_of("+15551230000")
    view = detail.conversation
    assert (view.campaign_id, view.journey_id, view.tags) == (None, None, ())
    assert view.integration_id == second.id  # the number that was written to answers
    assert [m.author.value for m in detail.messages] == ["contact", "agent"]
    assert harness.texts(WA, "+15551230000") == [detail.messages[1].text]
    assert detail.messages[1].text.startswith("Hello there!")


def test_replies_after_completion_still_reach_the_agent(harness: ConversationHarness) -> None:
    campaign = harness.launch_campaign(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    for journey_id in harness.journey_ids(campaign):
        status(harness, journey_id)
    harness.settle()
    assert harness.status(campaign) == "sent"
    harness.clock.advance(timedelta(days=5))
    harness.write(ALEX, "👍")
    harness.settle()
    assert harness.texts(WA, ALEX)[-1] == CONFIRMED
    assert harness.outcomes(campaign) == {"delivered": 2}  # the outcome stays
    assert thread(harness, ALEX)[-2:] == ["contact: 👍", f"agent: {CONFIRMED}"]


def test_a_contact_in_two_campaigns_is_answered_in_the_most_recent_one(
    harness: ConversationHarness,
) -> None:
    older = harness.launch_campaign(CSV, reminder_journey(follow_up_days=None), name="Older")
    harness.settle()
    status(harness, harness.journey_ids(older)[0])
    harness.settle()
    harness.clock.advance(timedelta(days=1))
    newer = harness.launch_campaign(CSV, {"primary": sms_step("Flu shots are here")}, name="Flu")
    harness.settle()
    harness.clock.advance(timedelta(hours=1))
    harness.write(ALEX, "yes please", kind=SMS, recipient="Herald")
    harness.settle()

    with harness.herald.sessions() as session:
        flu = harness.conversations.list(session, campaign_id=newer, text=ALEX).items
        old = harness.conversations.list(session, campaign_id=older, text=ALEX).items
    assert [c.tags for c in flu] == [("flu", "confirmed")]
    assert flu[0].channel is Channel.SMS and flu[0].unread_count == 1
    assert [c.unread_count for c in old] == [0]
    sms_answer = harness.channels[SMS].sent[-1]
    assert sms_answer.to == ALEX and sms_answer.content == SmsContent(CONFIRMED)
    assert harness.outcomes(newer)["replied"] == 1


def test_an_agent_opt_out_suppresses_the_address_and_tells_the_journey(
    harness: ConversationHarness,
) -> None:
    campaign = harness.launch_campaign(CSV, reminder_journey())
    harness.settle()
    alex = harness.journey_ids(campaign)[0]
    harness.write(ALEX, "Please remove me from your list")
    harness.settle()
    assert harness.texts(WA, ALEX)[-1] == "You will not receive further messages from us."
    with harness.herald.sessions() as session:
        entries = list_suppressions(session).items
    assert [(e.address, e.reason.value) for e in entries] == [(ALEX, "agent_action")]
    kinds = [
        row.kind
        for row in harness.query(select(JOURNEY_LOG.c.kind).where(JOURNEY_LOG.c.journey_id == alex))
    ]
    assert kinds.count("agent_opt_out") == 1 and "reply" in kinds
    later = harness.launch_campaign(CSV, {"primary": sms_step("News")}, name="News")
    harness.settle()
    assert harness.outcomes(later) == {"opted_out": 1}
    assert (harness.texts(SMS, ALEX), harness.texts(SMS, JAMIE)) == ([], ["News"])


def test_an_agent_reply_is_never_sent_twice_after_a_crash_between_intent_and_send(
    harness: ConversationHarness,
) -> None:
    harness.write(JAMIE, "Hello")
    harness.settle_routing()
    doomed = harness.reply_worker(None, owner="doomed")
    batch = doomed.begin()
    assert batch is not None and len(batch.questions) == 1
    decisions = harness.run(doomed.decide(batch))
    doomed.apply(batch, decisions)  # the intent is committed; the worker dies here
    assert len(batch.sends) == 1 and harness.channels[WA].sent == []

    harness.settle()  # the lease still holds: nobody touches the conversation
    assert harness.channels[WA].sent == []
    harness.clock.advance(timedelta(minutes=6))
    harness.settle()
    assert harness.channels[WA].sent == []
    reply = harness.conversation_of(JAMIE).messages[-1]
    assert (reply.author.value, reply.status) == ("agent", "unknown")
    assert reply.error_detail == "worker stopped during the send"
    harness.write(JAMIE, "Hi again")  # the conversation goes on normally
    harness.settle()
    assert len(harness.channels[WA].sent) == 1


def test_a_throttled_reply_waits_and_is_sent_once_later(harness: ConversationHarness) -> None:
    throttled = SendRetryable(ProviderFailure(WA, "130429", "Rate limit hit", http_status=429))
    harness.script(WA, JAMIE, throttled, SendAccepted("wamid.late"))
    harness.write(JAMIE, "Hello")
    harness.settle()
    reply = harness.conversation_of(JAMIE).messages[-1]
    assert (reply.status, reply.error_code) == ("queued", "130429")
    harness.clock.advance(timedelta(seconds=31))
    harness.settle()
    reply = harness.conversation_of(JAMIE).messages[-1]
    assert (reply.status, reply.provider_message_id) == ("accepted", "wamid.late")
    assert len(harness.channels[WA].sent) == 2
    harness.clock.advance(timedelta(hours=1))
    harness.settle()
    assert len(harness.channels[WA].sent) == 2


def test_a_worker_whose_lease_ran_out_while_its_agent_thought_applies_nothing(
    harness: ConversationHarness,
) -> None:
    harness.write(JAMIE, "Hello")
    harness.settle_routing()
    slow = harness.reply_worker(None, owner="slow")
    batch = slow.begin()
    assert batch is not None
    decisions = harness.run(slow.decide(batch))
    harness.clock.advance(timedelta(minutes=6))
    harness.settle()  # another worker takes the conversation over and answers
    slow.apply(batch, decisions)  # the slow worker comes back with its answer
    slow.finish(batch, [])
    assert batch.sends == [] and len(harness.channels[WA].sent) == 1
    authors = [m.author.value for m in harness.conversation_of(JAMIE).messages]
    assert authors == ["contact", "agent"]
