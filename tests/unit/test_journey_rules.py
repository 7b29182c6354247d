"""Each rule of the journey (DESIGN.md, "The journey, precisely"), one test apiece."""

from __future__ import annotations

from datetime import timedelta

import pytest

from herald.domain.channels import Channel
from herald.domain.journey_events import (
    Cancel,
    CancelTimer,
    Complete,
    Delivered,
    DeliveryWindowExpired,
    Failed,
    FollowUpDue,
    JourneyEvent,
    Launch,
    OptOut,
    Pause,
    Read,
    Reply,
    Resume,
    RetryDue,
    RouteReply,
    Send,
    SendAccepted,
    SendOutcomeUnknown,
    SendRejectedRetryable,
    SendRejectedTerminal,
    Skip,
    SkipReason,
    StartTimer,
    Suppressed,
)
from herald.domain.journey_plan import DEFAULT_DELIVERY_WINDOWS, ContactData
from herald.domain.journey_state import Outcome, Phase, StepStatus, TimerKind
from herald.domain.retry_policy import RetryPolicy
from tests.unit.journey_support import (
    BOTH,
    EMAIL,
    MAIL,
    NOTHING,
    PHONE,
    SMS,
    VOICE,
    WA,
    Journey,
    make_plan,
)

DAY = timedelta(days=1)


def launched(
    *chain: Channel,
    contact: ContactData = BOTH,
    follow_up: Channel | None = None,
    delay: timedelta = 2 * DAY,
    retry: RetryPolicy | None = None,
) -> Journey:
    plan = make_plan(*chain, follow_up=follow_up, delay=delay, retry=retry)
    journey = Journey(plan, contact)
    journey.feed(Launch())
    return journey


def delivered_primary(
    follow_up: Channel | None = None, retry: RetryPolicy | None = None
) -> Journey:
    journey = launched(WA, SMS, follow_up=follow_up, retry=retry)
    journey.feed(SendAccepted(0, 1))
    journey.feed(Delivered(0), after=timedelta(minutes=1))
    return journey


# -- 1. delivery chain ----------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "contact", "skipped", "first_send"),
    [
        ((WA, MAIL), EMAIL, [Skip(0, SkipReason.MISSING_PHONE)], 1),
        (
            (SMS, VOICE, MAIL),
            EMAIL,
            [Skip(0, SkipReason.MISSING_PHONE), Skip(1, SkipReason.MISSING_PHONE)],
            2,
        ),
        ((MAIL, SMS), PHONE, [Skip(0, SkipReason.MISSING_EMAIL)], 1),
        ((WA, SMS), PHONE, [], 0),
    ],
)
def test_a_step_whose_channel_lacks_contact_data_is_skipped_with_its_reason(
    chain: tuple[Channel, ...], contact: ContactData, skipped: list[Skip], first_send: int
) -> None:
    journey = Journey(make_plan(*chain), contact)
    commands = journey.feed(Launch())
    assert [c for c in commands if isinstance(c, Skip)] == skipped
    assert commands[-1] == Send(first_send, 1)
    assert [journey.state.status_of(s.step) for s in skipped] == [StepStatus.SKIPPED] * len(skipped)


def test_a_contact_reachable_by_no_step_completes_undeliverable_at_launch() -> None:
    journey = Journey(make_plan(WA, MAIL), NOTHING)
    commands = journey.feed(Launch())
    assert commands == (
        Skip(0, SkipReason.MISSING_PHONE),
        Skip(1, SkipReason.MISSING_EMAIL),
        Complete(Outcome.UNDELIVERABLE),
    )
    assert journey.sends == []


def test_a_retryable_rejection_is_retried_inside_the_step_with_growing_backoff() -> None:
    journey = launched(WA, SMS)
    delays = []
    for attempt in range(1, 5):
        start = journey.now
        (timer,) = journey.feed(SendRejectedRetryable(0, attempt, "500"))
        assert isinstance(timer, StartTimer) and timer.kind is TimerKind.RETRY
        delays.append(timer.at - start)
        assert journey.fire_timer() == (Send(0, attempt + 1),)
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240)]


def test_retries_give_up_after_the_error_budget_and_fall_back() -> None:
    journey = launched(WA, SMS, retry=RetryPolicy(max_errors=2))
    journey.feed(SendRejectedRetryable(0, 1, "timeout"))
    journey.fire_timer()
    assert journey.feed(SendRejectedRetryable(0, 2, "503")) == (Send(1, 1),)
    assert journey.state.status_of(0) is StepStatus.REJECTED


def test_a_provider_retry_after_is_honoured() -> None:
    journey = launched(WA, SMS)
    (timer,) = journey.feed(SendRejectedRetryable(0, 1, "429", timedelta(minutes=5), True))
    assert isinstance(timer, StartTimer) and timer.at == journey.now + timedelta(minutes=5)
    journey.now += timedelta(minutes=4)
    assert journey.feed(RetryDue(0)) == ()  # not due yet: nothing sent early
    assert journey.fire_timer() == (Send(0, 2),)


def test_a_retry_after_beyond_the_policy_limit_moves_to_the_fallback() -> None:
    journey = launched(WA, SMS)
    commands = journey.feed(SendRejectedRetryable(0, 1, "429", timedelta(hours=3), True))
    assert commands == (Send(1, 1),)


def test_throttling_slows_a_step_down_without_spending_its_error_budget() -> None:
    journey = launched(WA, SMS, retry=RetryPolicy(max_errors=1, max_throttles=10))
    for attempt in range(1, 11):
        journey.feed(SendRejectedRetryable(0, attempt, "130429", is_throttle=True))
        assert journey.state.phase is Phase.RETRY_WAIT
        journey.fire_timer()
    assert journey.feed(SendRejectedRetryable(0, 11, "130429", is_throttle=True)) == (Send(1, 1),)


def test_a_terminal_rejection_moves_to_the_next_fallback() -> None:
    journey = launched(WA, SMS, VOICE)
    assert journey.feed(SendRejectedTerminal(0, 1, "131026")) == (Send(1, 1),)
    assert journey.state.status_of(0) is StepStatus.REJECTED


@pytest.mark.parametrize("channel", list(Channel))
def test_an_accepted_message_waits_for_its_status_within_the_channel_window(
    channel: Channel,
) -> None:
    journey = launched(channel)
    (timer,) = journey.feed(SendAccepted(0, 1, "wamid.1"))
    assert timer == StartTimer(
        TimerKind.DELIVERY_WINDOW, 0, journey.now + DEFAULT_DELIVERY_WINDOWS[channel]
    )
    assert journey.state.phase is Phase.AWAITING_STATUS


@pytest.mark.parametrize("status", [Delivered(0), Read(0)])
def test_delivered_or_read_ends_the_chain(status: Delivered | Read) -> None:
    journey = launched(WA, SMS)
    journey.feed(SendAccepted(0, 1))
    commands = journey.feed(status)
    assert commands == (CancelTimer(TimerKind.DELIVERY_WINDOW, 0), Complete(Outcome.DELIVERED))
    assert journey.sends == [Send(0, 1)]


def test_a_failed_status_moves_to_the_next_fallback() -> None:
    journey = launched(WA, SMS)
    journey.feed(SendAccepted(0, 1))
    commands = journey.feed(Failed(0, "131047"))
    assert commands == (CancelTimer(TimerKind.DELIVERY_WINDOW, 0), Send(1, 1))


def test_no_status_within_the_window_counts_as_not_delivered() -> None:
    journey = launched(WA, SMS)
    journey.feed(SendAccepted(0, 1))
    assert journey.fire_timer() == (Send(1, 1),)
    assert journey.state.status_of(0) is StepStatus.EXPIRED


def test_an_accepted_email_without_bounce_in_its_window_counts_as_delivered() -> None:
    journey = launched(MAIL, SMS)
    journey.feed(SendAccepted(0, 1, "<id@herald>"))
    assert journey.fire_timer() == (Complete(Outcome.DELIVERED),)
    assert journey.state.status_of(0) is StepStatus.DELIVERED


def test_a_bounced_email_moves_to_the_next_fallback() -> None:
    journey = launched(MAIL, SMS)
    journey.feed(SendAccepted(0, 1))
    assert journey.feed(Failed(0, "5.1.1"))[-1] == Send(1, 1)


def test_an_email_whose_send_outcome_is_unknown_is_not_delivered_by_silence() -> None:
    journey = launched(MAIL, SMS)
    journey.feed(SendOutcomeUnknown(0, 1))
    assert journey.fire_timer() == (Send(1, 1),)


def test_a_send_with_unknown_outcome_is_never_resent_and_awaits_its_status() -> None:
    journey = launched(WA, SMS)
    (timer,) = journey.feed(SendOutcomeUnknown(0, 1))
    assert isinstance(timer, StartTimer) and timer.kind is TimerKind.DELIVERY_WINDOW
    assert journey.state.status_of(0) is StepStatus.UNKNOWN
    assert journey.feed(Delivered(0))[-1] == Complete(Outcome.DELIVERED)
    assert journey.sends == [Send(0, 1)]


def test_every_step_skipped_or_failed_completes_undeliverable() -> None:
    journey = launched(MAIL, WA, SMS, VOICE, contact=PHONE, retry=RetryPolicy(max_errors=1))
    journey.feed(SendRejectedTerminal(1, 1, "131026"))
    journey.feed(SendAccepted(2, 1))
    journey.feed(Failed(2, "EC_UNDELIVERABLE"))
    journey.feed(SendRejectedRetryable(3, 1, "500"))
    assert journey.completions == [Complete(Outcome.UNDELIVERABLE)]
    assert journey.state.steps == (
        StepStatus.SKIPPED,
        StepStatus.REJECTED,
        StepStatus.FAILED,
        StepStatus.REJECTED,
    )


# -- 2. follow-up ---------------------------------------------------------


def test_delivery_starts_the_follow_up_timer_from_the_delivered_time() -> None:
    journey = launched(WA, SMS, follow_up=SMS, delay=3 * DAY)
    journey.feed(SendAccepted(0, 1))
    commands = journey.feed(Delivered(0), after=timedelta(minutes=7))
    assert commands[-1] == StartTimer(TimerKind.FOLLOW_UP, 2, journey.now + 3 * DAY)
    assert journey.state.delivered_at == journey.now
    assert journey.state.phase is Phase.FOLLOW_UP_WAIT


def test_the_follow_up_is_sent_once_when_due_and_completes_as_followed_up() -> None:
    journey = delivered_primary(follow_up=SMS)
    assert journey.feed(FollowUpDue(), after=DAY) == ()  # early: nothing
    assert journey.fire_timer() == (Send(2, 1),)
    assert journey.feed(FollowUpDue()) == ()
    assert journey.feed(SendAccepted(2, 1)) == (Complete(Outcome.FOLLOWED_UP),)
    assert journey.sends == [Send(0, 1), Send(2, 1)]


def test_a_reply_cancels_the_follow_up() -> None:
    journey = delivered_primary(follow_up=SMS)
    commands = journey.feed(Reply("Yes, I'll be there"), after=DAY)
    assert commands == (
        CancelTimer(TimerKind.FOLLOW_UP, 2),
        RouteReply("Yes, I'll be there"),
        Complete(Outcome.REPLIED),
    )
    assert journey.feed(FollowUpDue(), after=2 * DAY) == ()
    assert journey.sends == [Send(0, 1)]


def test_a_follow_up_the_contact_cannot_receive_is_skipped_and_the_contact_is_delivered() -> None:
    journey = launched(WA, follow_up=MAIL, contact=PHONE)
    journey.feed(SendAccepted(0, 1))
    commands = journey.feed(Delivered(0))
    assert commands[-2:] == (Skip(1, SkipReason.MISSING_EMAIL), Complete(Outcome.DELIVERED))
    assert journey.state.timer is None


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (SendRejectedTerminal(2, 1, "131026"), Outcome.DELIVERED),
        (SendOutcomeUnknown(2, 1), Outcome.FOLLOWED_UP),
        (Delivered(2), Outcome.FOLLOWED_UP),
        (Failed(2, "EC_ABSENT_SUBSCRIBER"), Outcome.FOLLOWED_UP),
        (Suppressed(2, 1), Outcome.OPTED_OUT),
    ],
)
def test_the_follow_up_answer_decides_the_outcome(answer: JourneyEvent, outcome: Outcome) -> None:
    journey = delivered_primary(follow_up=SMS)
    journey.fire_timer()
    journey.feed(answer)
    assert journey.state.outcome is outcome


def test_a_follow_up_whose_retries_run_out_leaves_the_contact_delivered() -> None:
    journey = delivered_primary(follow_up=SMS, retry=RetryPolicy(max_errors=2))
    journey.fire_timer()
    journey.feed(SendRejectedRetryable(2, 1, "500"))
    assert journey.fire_timer() == (Send(2, 2),)
    assert journey.feed(SendRejectedRetryable(2, 2, "500")) == (Complete(Outcome.DELIVERED),)


def test_without_a_follow_up_a_delivered_contact_completes_as_delivered() -> None:
    journey = delivered_primary()
    assert journey.state.outcome is Outcome.DELIVERED
    assert journey.completions == [Complete(Outcome.DELIVERED)]


# -- 3. replies -----------------------------------------------------------


@pytest.mark.parametrize(
    "before_reply",
    [
        [],
        [SendAccepted(0, 1)],
        [SendRejectedRetryable(0, 1, "500")],
        [SendAccepted(0, 1), Delivered(0)],
    ],
    ids=["sending", "awaiting-status", "retry-wait", "follow-up-wait"],
)
def test_a_reply_at_any_moment_stops_the_journey_as_replied(
    before_reply: list[JourneyEvent],
) -> None:
    journey = launched(WA, SMS, follow_up=SMS)
    journey.feed_all(before_reply)
    commands = journey.feed(Reply("who is this?"))
    assert commands[-2:] == (RouteReply("who is this?"), Complete(Outcome.REPLIED))
    assert journey.state.timer is None
    for late in (Failed(0, "x"), RetryDue(0), FollowUpDue(), SendRejectedTerminal(0, 1, "x")):
        journey.feed(late, after=3 * DAY)
    assert journey.sends == [Send(0, 1)]


def test_a_reply_after_completion_still_reaches_the_agent_without_changing_the_outcome() -> None:
    journey = delivered_primary()
    assert journey.feed(Reply("thanks"), after=DAY) == (RouteReply("thanks"),)
    assert journey.state.outcome is Outcome.DELIVERED


def test_a_reply_before_launch_is_routed_but_does_not_end_the_journey() -> None:
    journey = Journey(make_plan(WA))
    assert journey.feed(Reply("hello?")) == (RouteReply("hello?"),)
    assert journey.state.phase is Phase.PENDING


# -- 4. opt-out -----------------------------------------------------------


def test_an_opt_out_completes_the_contact_and_nothing_more_is_sent() -> None:
    journey = launched(WA, SMS, follow_up=SMS)
    journey.feed(SendAccepted(0, 1))
    assert journey.feed(OptOut())[-1] == Complete(Outcome.OPTED_OUT)
    journey.feed(Failed(0, "x"))
    journey.feed(DeliveryWindowExpired(0), after=3 * DAY)
    assert journey.sends == [Send(0, 1)]


def test_a_suppressed_address_at_send_time_completes_as_opted_out_without_fallback() -> None:
    journey = launched(SMS, MAIL)
    assert journey.feed(Suppressed(0, 1)) == (Complete(Outcome.OPTED_OUT),)
    assert journey.state.status_of(0) is StepStatus.SUPPRESSED
    assert journey.sends == [Send(0, 1)]


def test_an_opt_out_after_completion_keeps_the_outcome() -> None:
    journey = delivered_primary()
    assert journey.feed(OptOut()) == ()
    assert journey.state.outcome is Outcome.DELIVERED


# -- pause, resume, cancel ------------------------------------------------


def test_a_paused_journey_holds_its_next_send_and_resume_issues_it_once() -> None:
    journey = launched(WA, SMS)
    journey.feed(SendAccepted(0, 1))
    journey.feed(Pause())
    assert journey.feed(Failed(0, "131049")) == (CancelTimer(TimerKind.DELIVERY_WINDOW, 0),)
    assert journey.state.phase is Phase.HELD
    assert journey.feed(Pause()) == ()
    assert journey.feed(Resume(), after=DAY) == (Send(1, 1),)
    assert journey.feed(Resume()) == ()
    assert journey.sends == [Send(0, 1), Send(1, 1)]


def test_statuses_still_apply_while_paused() -> None:
    journey = launched(WA, SMS)
    journey.feed(Pause())
    journey.feed(SendAccepted(0, 1))
    assert journey.feed(Delivered(0))[-1] == Complete(Outcome.DELIVERED)


def test_a_retry_due_while_paused_waits_for_resume() -> None:
    journey = launched(WA)
    journey.feed(SendRejectedRetryable(0, 1, "500"))
    journey.feed(Pause())
    assert journey.fire_timer() == ()
    assert journey.feed(Resume()) == (Send(0, 2),)


def test_a_follow_up_due_while_paused_is_sent_on_resume_only() -> None:
    journey = delivered_primary(follow_up=SMS)
    journey.feed(Pause())
    assert journey.fire_timer() == ()
    assert journey.state.phase is Phase.FOLLOW_UP_HELD
    assert journey.feed(Resume(), after=DAY) == (Send(2, 1),)


def test_launching_a_paused_journey_holds_the_first_send() -> None:
    journey = Journey(make_plan(WA, SMS))
    journey.feed(Pause())
    assert journey.feed(Launch()) == ()
    assert journey.feed(Resume()) == (Send(0, 1),)


@pytest.mark.parametrize(
    "before_cancel",
    [
        [],
        [Launch()],
        [Launch(), SendRejectedRetryable(0, 1, "500")],
        [Launch(), SendAccepted(0, 1)],
        [Launch(), Pause(), SendAccepted(0, 1), Failed(0, "x")],
        [Launch(), SendAccepted(0, 1), Delivered(0)],
    ],
    ids=["pending", "sending", "retry-wait", "awaiting", "held", "follow-up-wait"],
)
def test_cancel_completes_any_contact_without_an_outcome(before_cancel: list[JourneyEvent]) -> None:
    journey = Journey(make_plan(WA, SMS, follow_up=SMS))
    journey.feed_all(before_cancel)
    assert journey.feed(Cancel())[-1] == Complete(Outcome.CANCELLED)
    assert journey.state.timer is None
    assert journey.feed(Resume()) == ()
    assert journey.feed(Launch()) == ()


def test_cancel_after_completion_keeps_the_outcome() -> None:
    journey = delivered_primary()
    assert journey.feed(Cancel()) == ()
    assert journey.state.outcome is Outcome.DELIVERED
