"""Every (phase, event type) pair, from representative states: total, and invariants kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from herald.domain.journey import TRANSITIONS, transition
from herald.domain.journey_events import (
    EVENT_TYPES,
    Cancel,
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
    Send,
    SendAccepted,
    SendOutcomeUnknown,
    SendRejectedRetryable,
    SendRejectedTerminal,
    Suppressed,
)
from herald.domain.journey_plan import JourneyPlan
from herald.domain.journey_state import JourneyState, Phase
from tests.unit.journey_support import (
    BOTH,
    MAIL,
    SMS,
    WA,
    Journey,
    check_transition,
    make_plan,
)

FIRE = "fire the pending timer"
PLAN = make_plan(WA, SMS, MAIL, follow_up=SMS)

SCRIPTS: dict[str, list[JourneyEvent | str]] = {
    "pending": [],
    "pending-paused": [Pause()],
    "sending": [Launch()],
    "sending-retry": [Launch(), SendRejectedRetryable(0, 1, "500"), FIRE],
    "sending-fallback": [Launch(), SendRejectedTerminal(0, 1, "131026")],
    "sending-paused": [Launch(), Pause()],
    "retry-wait": [Launch(), SendRejectedRetryable(0, 1, "500")],
    "retry-wait-throttled": [Launch(), SendRejectedRetryable(0, 1, "429", None, True)],
    "held-first": [Pause(), Launch()],
    "held-retry": [Launch(), SendRejectedRetryable(0, 1, "500"), Pause(), FIRE],
    "held-fallback": [Launch(), SendAccepted(0, 1), Pause(), Failed(0, "x")],
    "awaiting-accepted": [Launch(), SendAccepted(0, 1)],
    "awaiting-unknown": [Launch(), SendOutcomeUnknown(0, 1)],
    "awaiting-email": [
        Launch(),
        SendRejectedTerminal(0, 1, "x"),
        SendRejectedTerminal(1, 1, "x"),
        SendAccepted(2, 1),
    ],
    "awaiting-paused": [Launch(), SendAccepted(0, 1), Pause()],
    "follow-up-wait": [Launch(), SendAccepted(0, 1), Delivered(0)],
    "follow-up-wait-late": [Launch(), SendAccepted(0, 1), FIRE, Delivered(1)],
    "follow-up-sending": [Launch(), SendAccepted(0, 1), Delivered(0), FIRE],
    "follow-up-retry": [
        Launch(),
        SendAccepted(0, 1),
        Delivered(0),
        FIRE,
        SendRejectedRetryable(3, 1, "500"),
    ],
    "follow-up-held": [Launch(), SendAccepted(0, 1), Delivered(0), Pause(), FIRE],
    "follow-up-held-retry": [
        Launch(),
        SendAccepted(0, 1),
        Delivered(0),
        FIRE,
        SendRejectedRetryable(3, 1, "500"),
        Pause(),
        FIRE,
    ],
    "done-replied": [Launch(), Reply("hi")],
    "done-followed-up": [Launch(), SendAccepted(0, 1), Delivered(0), FIRE, SendAccepted(3, 1)],
    "done-undeliverable": [
        Launch(),
        SendRejectedTerminal(0, 1, "x"),
        SendRejectedTerminal(1, 1, "x"),
        SendRejectedTerminal(2, 1, "x"),
    ],
    "done-opted-out": [Launch(), SendAccepted(0, 1), OptOut()],
    "done-cancelled-in-flight": [Launch(), Cancel()],
    "done-before-launch": [Cancel()],
}


def build(script: list[JourneyEvent | str], plan: JourneyPlan = PLAN) -> Journey:
    journey = Journey(plan, BOTH)
    for item in script:
        if isinstance(item, str):
            journey.fire_timer()
        else:
            journey.feed(item)
    return journey


def representative_events(state: JourneyState) -> Iterator[JourneyEvent]:
    """Each event type aimed at the current step, its neighbours and nonsense."""
    current = state.step or 0
    steps = sorted({current, current - 1, current + 1, 99})
    attempts = sorted({max(state.attempt - 1, 0), state.attempt, state.attempt + 1})
    yield from (Launch(), FollowUpDue(), Reply("yes"), OptOut(), Pause(), Resume(), Cancel())
    for step in steps:
        yield from (Delivered(step), Read(step), Failed(step, "x"))
        yield from (DeliveryWindowExpired(step), RetryDue(step))
        for attempt in attempts:
            yield SendAccepted(step, attempt, "id")
            yield SendOutcomeUnknown(step, attempt)
            yield SendRejectedTerminal(step, attempt, "x")
            yield Suppressed(step, attempt)
            yield SendRejectedRetryable(step, attempt, "500")
            yield SendRejectedRetryable(step, attempt, "429", timedelta(seconds=90), True)
            yield SendRejectedRetryable(step, attempt, "429", timedelta(days=1), True)


def moments(journey: Journey) -> list[datetime]:
    """Just before the pending timer, exactly at it, and long after."""
    due = journey.state.due_at or journey.now
    return [max(journey.now, due - timedelta(seconds=1)), due, due + timedelta(days=8)]


def test_the_table_covers_every_phase_and_event_type() -> None:
    expected = {(phase, kind) for phase in Phase for kind in EVENT_TYPES}
    assert set(TRANSITIONS) == expected


def test_the_representative_states_cover_every_phase() -> None:
    assert {build(script).state.phase for script in SCRIPTS.values()} == set(Phase)


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_every_event_in_every_state_keeps_the_invariants(name: str) -> None:
    journey = build(SCRIPTS[name])
    before = journey.state
    sent_before = {(send.step, send.attempt) for send in journey.sends}
    for event in representative_events(before):
        for now in moments(journey):
            result = transition(PLAN, journey.contact, before, event, now)
            check_transition(PLAN, BOTH, before, result, now)
            for send in (c for c in result.commands if isinstance(c, Send)):
                assert (send.step, send.attempt) not in sent_before
            if before.is_done:
                assert result.state.outcome is before.outcome


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_an_event_applied_twice_acts_at_most_once(name: str) -> None:
    """Idempotence: a second copy of any event neither sends nor completes again."""
    journey = build(SCRIPTS[name])
    for event in representative_events(journey.state):
        now = journey.state.due_at or journey.now
        first = transition(PLAN, BOTH, journey.state, event, now)
        second = transition(PLAN, BOTH, first.state, event, now)
        acting = [c for c in second.commands if isinstance(c, Send | Complete)]
        assert acting == [], (event, second)
