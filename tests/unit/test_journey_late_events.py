"""Late, duplicate and out-of-order events: recorded or ignored, never acted on twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from herald.domain.journey import transition
from herald.domain.journey_events import (
    Cancel,
    Complete,
    Delivered,
    DeliveryWindowExpired,
    Failed,
    JourneyEvent,
    LateReason,
    Launch,
    Pause,
    Read,
    RecordLate,
    Reply,
    RetryDue,
    Send,
    SendAccepted,
    SendOutcomeUnknown,
    SendRejectedRetryable,
    SendRejectedTerminal,
)
from herald.domain.journey_state import JourneyState, Outcome, Phase, StepStatus
from herald.errors import ValidationError
from tests.unit.journey_support import BOTH, SMS, VOICE, WA, Journey, make_plan


def expired_primary() -> Journey:
    """WhatsApp accepted, window passed, SMS fallback sent."""
    journey = Journey(make_plan(WA, SMS, VOICE))
    journey.feed(Launch())
    journey.feed(SendAccepted(0, 1))
    journey.fire_timer()
    return journey


def test_a_delivered_status_after_the_fallback_went_out_is_recorded_without_action() -> None:
    journey = expired_primary()
    assert journey.feed(Delivered(0)) == (RecordLate(Delivered(0), LateReason.SUPERSEDED),)
    assert journey.state.status_of(0) is StepStatus.DELIVERED
    assert journey.state.phase is Phase.SENDING and journey.state.step == 1
    assert journey.feed(Delivered(0)) == ()  # and its duplicate is silent


def test_a_late_delivery_does_not_stop_the_fallback_from_completing_the_journey() -> None:
    journey = expired_primary()
    journey.feed(Delivered(0))
    journey.feed(SendAccepted(1, 1))
    assert journey.feed(Delivered(1))[-1] == Complete(Outcome.DELIVERED)


def test_read_before_delivered_counts_as_delivered() -> None:
    journey = Journey(make_plan(WA, SMS))
    journey.feed_all([Launch(), SendAccepted(0, 1)])
    assert journey.feed(Read(0))[-1] == Complete(Outcome.DELIVERED)
    assert journey.feed(Delivered(0)) == ()
    assert journey.state.status_of(0) is StepStatus.READ


def test_read_after_delivered_refines_the_status_silently() -> None:
    journey = Journey(make_plan(WA, follow_up=SMS))
    journey.feed_all([Launch(), SendAccepted(0, 1), Delivered(0)])
    assert journey.feed(Read(0)) == ()
    assert journey.state.status_of(0) is StepStatus.READ
    assert journey.state.phase is Phase.FOLLOW_UP_WAIT


def test_failed_after_delivered_is_recorded_and_ignored() -> None:
    journey = Journey(make_plan(WA, SMS, follow_up=SMS))
    journey.feed_all([Launch(), SendAccepted(0, 1), Delivered(0)])
    assert journey.feed(Failed(0, "131047")) == (
        RecordLate(Failed(0, "131047"), LateReason.OUT_OF_ORDER),
    )
    assert journey.state.status_of(0) is StepStatus.DELIVERED
    assert journey.state.phase is Phase.FOLLOW_UP_WAIT


def test_a_status_arriving_before_the_send_answer_settles_the_step() -> None:
    journey = Journey(make_plan(WA, SMS))
    journey.feed(Launch())
    assert journey.feed(Delivered(0)) == (Complete(Outcome.DELIVERED),)
    assert journey.feed(SendAccepted(0, 1)) == ()  # the status already implied it
    assert journey.state.status_of(0) is StepStatus.DELIVERED


def test_a_failure_arriving_before_the_send_answer_falls_back_once() -> None:
    journey = Journey(make_plan(WA, SMS))
    journey.feed(Launch())
    assert journey.feed(Failed(0, "131026")) == (Send(1, 1),)
    assert journey.feed(SendRejectedRetryable(0, 1, "500")) == (
        RecordLate(SendRejectedRetryable(0, 1, "500"), LateReason.UNEXPECTED),
    )
    assert journey.sends == [Send(0, 1), Send(1, 1)]


def test_an_acceptance_of_an_attempt_thought_rejected_stops_the_retry() -> None:
    journey = Journey(make_plan(WA, SMS))
    journey.feed_all([Launch(), SendRejectedRetryable(0, 1, "timeout")])
    journey.feed(SendAccepted(0, 1))
    assert journey.state.phase is Phase.AWAITING_STATUS
    assert journey.feed(RetryDue(0), after=timedelta(hours=1)) == ()
    assert journey.sends == [Send(0, 1)]


def test_a_lost_answer_turning_up_refines_unknown_to_accepted() -> None:
    journey = Journey(make_plan(WA))
    journey.feed_all([Launch(), SendOutcomeUnknown(0, 1)])
    assert journey.feed(SendAccepted(0, 1, "wamid.9")) == ()
    assert journey.state.status_of(0) is StepStatus.ACCEPTED
    assert journey.state.phase is Phase.AWAITING_STATUS


def test_a_send_answer_after_cancel_is_recorded_on_its_step() -> None:
    journey = Journey(make_plan(WA))
    journey.feed_all([Launch(), Cancel()])
    commands = journey.feed(SendAccepted(0, 1))
    assert commands == (RecordLate(SendAccepted(0, 1), LateReason.AFTER_COMPLETION),)
    assert journey.state.status_of(0) is StepStatus.ACCEPTED
    assert journey.state.outcome is Outcome.CANCELLED


@pytest.mark.parametrize(
    "event",
    [
        Delivered(5),
        Failed(2, "x"),
        SendAccepted(1, 1),
        SendAccepted(0, 2),
        SendAccepted(0, 0),
        SendOutcomeUnknown(-1, 1),
        SendRejectedTerminal(0, 7, "x"),
    ],
)
def test_an_event_about_a_send_never_issued_is_recorded_as_unexpected(event: JourneyEvent) -> None:
    journey = Journey(make_plan(WA, SMS, follow_up=SMS))
    journey.feed(Launch())
    before = journey.state
    assert journey.feed(event) == (RecordLate(event, LateReason.UNEXPECTED),)
    assert journey.state == before


@pytest.mark.parametrize(
    ("script", "duplicate"),
    [
        ([Launch()], Launch()),
        ([Launch(), SendAccepted(0, 1)], SendAccepted(0, 1)),
        ([Launch(), SendOutcomeUnknown(0, 1)], SendOutcomeUnknown(0, 1)),
        ([Launch(), SendRejectedRetryable(0, 1, "500")], SendRejectedRetryable(0, 1, "500")),
        ([Launch(), SendRejectedRetryable(0, 1, "500")], SendRejectedTerminal(0, 1, "400")),
        ([Launch(), SendAccepted(0, 1), Read(0)], Read(0)),
        ([Launch(), SendAccepted(0, 1), Failed(0, "x")], Failed(0, "x")),
        ([Launch(), SendAccepted(0, 1), Failed(0, "x")], SendAccepted(0, 1)),
        ([Launch(), SendRejectedTerminal(0, 1, "x")], SendRejectedTerminal(0, 1, "x")),
        ([Launch(), SendRejectedTerminal(0, 1, "x")], Failed(0, "x")),
        ([Launch(), SendAccepted(0, 1)], Pause()),
        ([Launch(), SendAccepted(0, 1)], DeliveryWindowExpired(1)),
        ([Launch(), SendAccepted(0, 1)], RetryDue(0)),
    ],
)
def test_duplicates_and_stale_timers_are_silent_no_ops(
    script: list[JourneyEvent], duplicate: JourneyEvent
) -> None:
    journey = Journey(make_plan(WA, SMS, follow_up=SMS))
    journey.feed_all(script)
    journey.feed(Pause())
    before = journey.state
    assert journey.feed(duplicate) == ()
    assert journey.state == before


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (Delivered(0), ()),
        (Read(0), ()),
        (Failed(0, "x"), (RecordLate(Failed(0, "x"), LateReason.OUT_OF_ORDER),)),
        (SendAccepted(0, 1), ()),
        (Launch(), ()),
        (DeliveryWindowExpired(0), ()),
        (Reply("ok"), None),
    ],
)
def test_events_after_completion_change_nothing(
    event: JourneyEvent, expected: tuple[object, ...] | None
) -> None:
    journey = Journey(make_plan(WA))
    journey.feed_all([Launch(), SendAccepted(0, 1), Read(0)])
    before = journey.state
    commands = journey.feed(event, after=timedelta(days=9))
    if expected is not None:
        assert commands == expected
    assert journey.state.outcome is before.outcome
    assert journey.state.phase is Phase.DONE


def test_now_must_be_an_aware_datetime() -> None:
    with pytest.raises(ValidationError) as caught:
        transition(make_plan(WA), BOTH, JourneyState(), Launch(), datetime(2025, 1, 1))
    assert caught.value.field == "now"


def test_now_in_another_offset_is_read_as_utc() -> None:
    paris = datetime(2025, 1, 1, 10, tzinfo=timezone(timedelta(hours=1)))
    result = transition(make_plan(WA), BOTH, JourneyState(), Launch(), paris)
    assert result.state.launched_at == datetime(2025, 1, 1, 9, tzinfo=UTC)
    assert result.state.launched_at.tzinfo is UTC
