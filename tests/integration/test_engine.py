"""The journey engine end to end on SQLite and PostgreSQL, with in-memory channels.

Providers are replaced by recording fakes; statuses and replies are fed in
through the same inbox the webhooks write to, so router, scheduler, journey
worker, persistence and counters all run for real.
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
    InboundMessage,
    ProviderFailure,
    SendTerminal,
)
from herald.domain.channels import IntegrationKind
from herald.engine.keys import message_key
from herald.store.journeys import MESSAGES
from tests.support.engine import EngineHarness, reminder_journey

WA = IntegrationKind.WHATSAPP
SMS = IntegrationKind.INFOBIP_SMS
CSV = (
    "email,phone,name,appointment_date\n"
    "alex@example.com,+12025550101,Alex,2025-03-10\n"
    "jamie@example.net,+442071838750,Jamie,2025-03-11\n"
    "priya@example.in,,Priya,2025-03-12\n"
)


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[EngineHarness]:
    harness = EngineHarness.create(database_url, tmp_path)
    yield harness
    harness.close()


def _status(
    harness: EngineHarness,
    journey_id: int,
    step: int,
    status: DeliveryStatus,
    kind: IntegrationKind = WA,
    failure: ProviderFailure | None = None,
) -> None:
    harness.deliver(
        DeliveryUpdate(
            provider=kind,
            provider_message_id=f"pm-{journey_id}-{step}-{status}",
            status=status,
            occurred_at=harness.clock.now(),
            failure=failure,
            correlation_key=message_key(journey_id, step),
        )
    )


def _reply(harness: EngineHarness, sender: str, text: str) -> None:
    harness.deliver(
        InboundMessage(
            provider=WA,
            provider_message_id=f"in-{sender}-{text}",
            sender=sender,
            recipient="15550783881",
            text=text,
            received_at=harness.clock.now(),
        )
    )


def _messages(harness: EngineHarness) -> list[tuple[int, int, str, str]]:
    rows = harness.query(
        select(
            MESSAGES.c.journey_id, MESSAGES.c.step, MESSAGES.c.channel, MESSAGES.c.status
        ).order_by(MESSAGES.c.journey_id, MESSAGES.c.step)
    )
    return [tuple(row) for row in rows]


def test_delivered_then_silent_contacts_get_one_follow_up(harness: EngineHarness) -> None:
    campaign = harness.launch(CSV)
    harness.settle()
    alex, jamie, _priya = harness.journey_ids(campaign)
    # Priya has no phone: WhatsApp and SMS are skipped; she is undeliverable.
    assert [m.to for m in harness.channels[WA].sent] == ["+12025550101", "+442071838750"]
    assert harness.outcomes(campaign) == {"undeliverable": 1}
    _status(harness, alex, 0, DeliveryStatus.DELIVERED)
    _status(harness, jamie, 0, DeliveryStatus.READ)
    harness.settle()
    assert harness.channels[SMS].sent == []
    harness.clock.advance(timedelta(days=2, seconds=1))
    harness.settle()
    follow_ups = harness.channels[SMS].sent
    assert sorted(m.to for m in follow_ups) == ["+12025550101", "+442071838750"]
    assert {m.key for m in follow_ups} == {message_key(alex, 2), message_key(jamie, 2)}
    assert harness.outcomes(campaign) == {"followed_up": 2, "undeliverable": 1}
    assert harness.status(campaign) == "sent"
    # Running the workers again sends nothing more.
    harness.clock.advance(timedelta(days=7))
    harness.settle()
    assert len(harness.channels[SMS].sent) == 2
    assert len(harness.channels[WA].sent) == 2


def test_terminal_rejection_moves_to_the_fallback_in_the_same_batch(harness: EngineHarness) -> None:
    failure = ProviderFailure(WA, "131026", "Message undeliverable")
    harness.script(WA, "+12025550101", SendTerminal(failure))
    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    alex = harness.journey_ids(campaign)[0]
    assert [m.to for m in harness.channels[SMS].sent] == ["+12025550101"]
    assert (alex, 0, "whatsapp", "rejected") in _messages(harness)
    _status(harness, alex, 1, DeliveryStatus.DELIVERED, kind=SMS)
    harness.settle()
    with harness.herald.sessions() as session:
        progress = harness.campaigns.progress(session, campaign)
    assert progress.error_codes == {"whatsapp:131026": 1}
    assert progress.outcomes["delivered"] == 1


def test_failed_status_after_acceptance_falls_back(harness: EngineHarness) -> None:
    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    jamie = harness.journey_ids(campaign)[1]
    failure = ProviderFailure(WA, "131049", "Not delivered to maintain ecosystem health")
    _status(harness, jamie, 0, DeliveryStatus.FAILED, failure=failure)
    _status(harness, jamie, 0, DeliveryStatus.FAILED, failure=failure)  # duplicate webhook
    harness.settle()
    assert [m.to for m in harness.channels[SMS].sent] == ["+442071838750"]


def test_a_reply_stops_the_follow_up(harness: EngineHarness) -> None:
    campaign = harness.launch(CSV)
    harness.settle()
    alex = harness.journey_ids(campaign)[0]
    _status(harness, alex, 0, DeliveryStatus.DELIVERED)
    harness.settle()
    _reply(harness, "+12025550101", "Yes, I will be there")
    harness.settle()
    harness.clock.advance(timedelta(days=3))
    harness.settle()
    # Jamie's WhatsApp was never delivered, so Jamie got the SMS fallback;
    # Alex replied, so Alex got nothing more.
    assert [m.to for m in harness.channels[SMS].sent] == ["+442071838750"]
    assert harness.outcomes(campaign)["replied"] == 1


def test_silence_until_the_window_ends_counts_as_not_delivered(harness: EngineHarness) -> None:
    harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    assert harness.channels[SMS].sent == []
    harness.clock.advance(timedelta(hours=6, seconds=1))
    harness.settle()
    assert len(harness.channels[SMS].sent) == 2


def test_a_crash_after_the_intent_leaves_the_send_unknown_and_never_resent(
    harness: EngineHarness,
) -> None:
    """Simulate a worker dying between recording intents and calling providers."""
    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    journeys, _router, _scheduler = harness.workers(owner="doomed")
    stage = journeys._begin()
    assert stage is not None and len(stage.sends) == 2  # intents committed, nothing sent
    assert harness.channels[WA].sent == []
    harness.clock.advance(timedelta(minutes=6))  # the lease runs out
    harness.settle()
    assert harness.channels[WA].sent == []
    statuses = {(j, s): st for j, s, _c, st in _messages(harness)}
    alex, _jamie, _priya = harness.journey_ids(campaign)
    assert statuses[(alex, 0)] == "unknown"
    # A late delivered status still settles the unknown step.
    _status(harness, alex, 0, DeliveryStatus.DELIVERED)
    harness.settle()
    assert harness.outcomes(campaign)["delivered"] == 1


def test_cancel_completes_every_pending_contact(harness: EngineHarness) -> None:
    campaign = harness.launch(CSV)
    harness.settle()
    with harness.herald.sessions() as session:
        harness.campaigns.cancel(session, campaign)
    harness.settle()
    assert harness.outcomes(campaign) == {"cancelled": 2, "undeliverable": 1}
    assert harness.status(campaign) == "cancelled"


def test_pause_holds_sends_and_resume_releases_them(harness: EngineHarness) -> None:
    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    with harness.herald.sessions() as session:
        harness.campaigns.pause(session, campaign)
    harness.settle()
    assert harness.channels[WA].sent == []
    with harness.herald.sessions() as session:
        harness.campaigns.resume(session, campaign)
    harness.settle()
    assert len(harness.channels[WA].sent) == 2


def test_a_reply_before_the_send_is_answered_still_finds_its_journey(
    harness: EngineHarness,
) -> None:
    """The provider can deliver a reply before Herald has recorded the send's answer."""
    from herald.store.inbox import ProviderEventRow

    campaign = harness.launch(CSV, reminder_journey(follow_up_days=None))
    journeys, router, _scheduler = harness.workers()
    stage = journeys._begin()  # intents recorded; the answers are not back yet
    assert stage is not None
    _reply(harness, "+12025550101", "Yes")
    assert router.route_batch() == 1
    routed = harness.query(select(ProviderEventRow.journey_id, ProviderEventRow.route))
    assert routed == [(harness.journey_ids(campaign)[0], "reply")]
