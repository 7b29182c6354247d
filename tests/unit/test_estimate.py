from __future__ import annotations

import pytest

from herald.domain.campaign import JourneyDefinition
from herald.domain.channels import Channel
from herald.domain.estimate import ChannelEstimate, IntegrationLoad, estimate_messages
from tests.unit.campaign_factories import (
    email_step,
    make_profile,
    reminder_journey,
    sms_step,
    voice_step,
)

# make_profile: 100 contacts, 90 with phone, 60 with email, 50 with both,
# so 40 phone only, 10 email only, none without either.


def test_reminder_journey_bounds() -> None:
    estimate = estimate_messages(reminder_journey(), make_profile(), {})
    assert estimate.channels == (
        ChannelEstimate(Channel.WHATSAPP, best=90, worst=90),
        ChannelEstimate(Channel.SMS, best=0, worst=90),
        ChannelEstimate(Channel.EMAIL, best=0, worst=60),
    )
    assert (estimate.best_total, estimate.worst_total) == (90, 240)


def test_best_case_uses_the_first_step_each_contact_can_receive() -> None:
    journey = JourneyDefinition(primary=email_step(), fallbacks=(sms_step(), voice_step()))
    estimate = estimate_messages(journey, make_profile(), {})
    assert {item.channel: (item.best, item.worst) for item in estimate.channels} == {
        Channel.EMAIL: (60, 60),
        Channel.SMS: (40, 90),
        Channel.VOICE: (0, 90),
    }


def test_an_integration_used_twice_adds_up() -> None:
    journey = JourneyDefinition(primary=sms_step(), fallbacks=(sms_step("Second try"),))
    estimate = estimate_messages(journey, make_profile(), {"clinic-sms": 10.0})
    assert estimate.integrations == (IntegrationLoad("clinic-sms", Channel.SMS, 90, 180, 10.0),)
    assert estimate.integrations[0].best_seconds == pytest.approx(9.0)
    assert estimate.worst_seconds == pytest.approx(18.0)


def test_durations_take_the_slowest_integration() -> None:
    rates = {"clinic-whatsapp": 80.0, "clinic-sms": 30.0, "clinic-email": 5.0}
    estimate = estimate_messages(reminder_journey(), make_profile(), rates)
    assert estimate.best_seconds == pytest.approx(90 / 80)
    assert estimate.worst_seconds == pytest.approx(60 / 5)


@pytest.mark.parametrize("rate", [None, 0.0])
def test_an_unknown_rate_leaves_the_duration_unknown(rate: float | None) -> None:
    rates = {"clinic-whatsapp": 80.0, "clinic-sms": rate, "clinic-email": 5.0}
    estimate = estimate_messages(reminder_journey(), make_profile(), rates)
    assert estimate.best_seconds is None
    assert estimate.worst_seconds is None


def test_an_empty_audience_sends_nothing() -> None:
    empty = make_profile(total=0, with_phone=0, with_email=0, with_phone_and_email=0)
    estimate = estimate_messages(reminder_journey(), empty, {"clinic-whatsapp": 1.0})
    assert (estimate.best_total, estimate.worst_total) == (0, 0)


def test_contacts_without_phone_or_email_send_nothing() -> None:
    profile = make_profile(with_phone=50, with_email=30, with_phone_and_email=20)
    groups = profile.groups()
    assert sum(groups.values()) == profile.total
    assert groups[frozenset()] == 40
    estimate = estimate_messages(
        JourneyDefinition(primary=sms_step(), fallbacks=(email_step(),)), profile, {}
    )
    assert estimate.best_total == 60
