from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from herald.domain.channels import Channel, ContactField
from herald.domain.journey_plan import (
    DEFAULT_DELIVERY_WINDOWS,
    FollowUp,
    JourneyPlan,
    PlannedStep,
    can_reach,
)
from herald.errors import ValidationError
from tests.unit.journey_support import BOTH, EMAIL, NOTHING, PHONE

DAY = timedelta(days=1)


def step(index: int, channel: Channel = Channel.SMS) -> PlannedStep:
    return PlannedStep.default(index, channel)


def test_every_channel_has_a_default_delivery_window() -> None:
    assert set(DEFAULT_DELIVERY_WINDOWS) == set(Channel)


@pytest.mark.parametrize(
    ("channel", "silence_confirms"),
    [
        (Channel.EMAIL, True),
        (Channel.WHATSAPP, False),
        (Channel.SMS, False),
        (Channel.VOICE, False),
    ],
)
def test_only_email_counts_as_delivered_when_its_window_passes_quietly(
    channel: Channel, silence_confirms: bool
) -> None:
    assert PlannedStep.default(0, channel).is_confirmed_by_silence is silence_confirms


@pytest.mark.parametrize(
    ("channel", "contact", "reachable"),
    [
        (Channel.WHATSAPP, PHONE, True),
        (Channel.SMS, EMAIL, False),
        (Channel.VOICE, BOTH, True),
        (Channel.EMAIL, EMAIL, True),
        (Channel.EMAIL, PHONE, False),
        (Channel.EMAIL, NOTHING, False),
    ],
)
def test_can_reach(channel: Channel, contact: frozenset[ContactField], reachable: bool) -> None:
    assert can_reach(channel, contact) is reachable


def test_from_channels_numbers_the_chain_then_the_follow_up() -> None:
    plan = JourneyPlan.from_channels(
        [Channel.WHATSAPP, Channel.SMS], follow_up=Channel.EMAIL, follow_up_delay=2 * DAY
    )
    assert [(s.index, s.channel) for s in plan.steps] == [
        (0, Channel.WHATSAPP),
        (1, Channel.SMS),
        (2, Channel.EMAIL),
    ]
    assert plan.follow_up_index == 2
    assert plan.find_step(2) == plan.steps[2]
    assert plan.find_step(3) is None and plan.find_step(-1) is None and plan.find_step(None) is None


@pytest.mark.parametrize("delay", [DAY, 7 * DAY])
def test_a_follow_up_delay_of_one_to_seven_days_is_accepted(delay: timedelta) -> None:
    assert FollowUp(step(1), delay).delay == delay


@pytest.mark.parametrize("delay", [DAY - timedelta(seconds=1), 7 * DAY + timedelta(seconds=1)])
def test_a_follow_up_delay_outside_one_to_seven_days_is_refused(delay: timedelta) -> None:
    with pytest.raises(ValidationError) as caught:
        FollowUp(step(1), delay)
    assert caught.value.field == "follow_up.delay"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: JourneyPlan(()), "chain"),
        (lambda: JourneyPlan((step(0), step(2))), "chain[1].index"),
        (lambda: JourneyPlan((step(0),), FollowUp(step(3), DAY)), "follow_up.step.index"),
        (lambda: PlannedStep(-1, Channel.SMS, DAY), "steps[-1].index"),
        (lambda: PlannedStep(0, Channel.SMS, timedelta(0)), "steps[0].delivery_window"),
        (lambda: PlannedStep(0, Channel.SMS, 31 * DAY), "steps[0].delivery_window"),
    ],
)
def test_an_inconsistent_plan_is_refused_naming_the_field(
    build: Callable[[], object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.field == field
