"""A driver for journeys in tests, and the invariants every transition must keep."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from herald.domain.channels import Channel, ContactField
from herald.domain.journey import transition
from herald.domain.journey_events import (
    CancelTimer,
    Command,
    Complete,
    DeliveryWindowExpired,
    FollowUpDue,
    JourneyEvent,
    RetryDue,
    Send,
    StartTimer,
    Transition,
)
from herald.domain.journey_plan import ContactData, JourneyPlan, can_reach
from herald.domain.journey_state import JourneyState, Phase, StepStatus, TimerKind
from herald.domain.retry_policy import RetryPolicy

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
PHONE: ContactData = frozenset({ContactField.PHONE})
EMAIL: ContactData = frozenset({ContactField.EMAIL})
BOTH: ContactData = frozenset(ContactField)
NOTHING: ContactData = frozenset()

WA, SMS, VOICE, MAIL = Channel.WHATSAPP, Channel.SMS, Channel.VOICE, Channel.EMAIL

SEND_PHASES = {Phase.SENDING, Phase.FOLLOW_UP_SENDING}
RETRY_PHASES = {Phase.RETRY_WAIT, Phase.FOLLOW_UP_RETRY_WAIT}
HELD_PHASES = {Phase.HELD, Phase.FOLLOW_UP_HELD}
CHAIN_PHASES = {Phase.SENDING, Phase.RETRY_WAIT, Phase.HELD, Phase.AWAITING_STATUS}
FOLLOW_UP_PHASES = {
    Phase.FOLLOW_UP_WAIT,
    Phase.FOLLOW_UP_SENDING,
    Phase.FOLLOW_UP_RETRY_WAIT,
    Phase.FOLLOW_UP_HELD,
}
TIMER_OF_PHASE = {
    Phase.RETRY_WAIT: TimerKind.RETRY,
    Phase.FOLLOW_UP_RETRY_WAIT: TimerKind.RETRY,
    Phase.AWAITING_STATUS: TimerKind.DELIVERY_WINDOW,
    Phase.FOLLOW_UP_WAIT: TimerKind.FOLLOW_UP,
}


def make_plan(
    *chain: Channel,
    follow_up: Channel | None = None,
    delay: timedelta = timedelta(days=2),
    retry: RetryPolicy | None = None,
) -> JourneyPlan:
    return JourneyPlan.from_channels(
        chain or (WA,), follow_up=follow_up, follow_up_delay=delay, retry=retry
    )


@dataclass
class Journey:
    """One contact's journey under a fake clock, remembering every command."""

    plan: JourneyPlan
    contact: ContactData = BOTH
    now: datetime = T0
    state: JourneyState = field(default_factory=JourneyState)
    log: list[tuple[datetime, JourneyEvent, Transition]] = field(default_factory=list)

    def feed(self, event: JourneyEvent, *, after: timedelta = timedelta(0)) -> tuple[Command, ...]:
        self.now += after
        before = self.state
        result = transition(self.plan, self.contact, before, event, self.now)
        check_transition(self.plan, self.contact, before, result, self.now)
        self.state = result.state
        self.log.append((self.now, event, result))
        return result.commands

    def feed_all(self, events: Iterable[JourneyEvent]) -> tuple[Command, ...]:
        commands: list[Command] = []
        for event in events:
            commands.extend(self.feed(event))
        return tuple(commands)

    def fire_timer(self) -> tuple[Command, ...]:
        """Move the clock to the pending timer and deliver it, as the engine would."""
        timer = self.state.timer
        assert timer is not None, f"no timer pending in {self.state.phase}"
        self.now = max(self.now, timer.due_at)
        event: JourneyEvent
        if timer.kind is TimerKind.RETRY:
            event = RetryDue(timer.step)
        elif timer.kind is TimerKind.DELIVERY_WINDOW:
            event = DeliveryWindowExpired(timer.step)
        else:
            event = FollowUpDue()
        return self.feed(event)

    @property
    def sends(self) -> list[Send]:
        return [c for _, _, result in self.log for c in result.commands if isinstance(c, Send)]

    @property
    def completions(self) -> list[Complete]:
        return [c for _, _, r in self.log for c in r.commands if isinstance(c, Complete)]


def check_state(plan: JourneyPlan, state: JourneyState) -> None:
    """Structural invariants of any state the machine produces."""
    phase = state.phase
    assert (state.outcome is not None) == (phase is Phase.DONE)
    assert (state.completed_at is not None) == (phase is Phase.DONE)
    expected_timer = TIMER_OF_PHASE.get(phase)
    if expected_timer is None:
        assert state.timer is None, f"{phase} keeps a {state.timer}"
    else:
        assert state.timer is not None and state.timer.kind is expected_timer
        assert state.timer.step == state.step
    if phase in HELD_PHASES:
        assert state.is_paused
    if phase is Phase.PENDING:
        assert state.step is None and not state.steps
    if phase in SEND_PHASES:
        assert state.step is not None and state.attempt >= 1
        assert state.status_of(state.step) is StepStatus.SENDING
    if phase in CHAIN_PHASES:
        assert state.step is not None and state.step < len(plan.chain)
    if phase in FOLLOW_UP_PHASES:
        assert state.step == plan.follow_up_index
        assert state.delivered_at is not None
    assert len(state.steps) <= len(plan.steps)


def check_transition(
    plan: JourneyPlan,
    contact: ContactData,
    before: JourneyState,
    result: Transition,
    now: datetime,
) -> None:
    """Invariants of one transition, whatever the event."""
    after, commands = result.state, result.commands
    check_state(plan, after)
    sends = [c for c in commands if isinstance(c, Send)]
    completes = [c for c in commands if isinstance(c, Complete)]
    assert len(sends) <= 1
    if before.is_done:
        assert after.outcome == before.outcome and after.is_done
        assert not sends and not completes
        assert not any(isinstance(c, StartTimer) for c in commands)
    assert len(completes) == (1 if after.is_done and not before.is_done else 0)
    if completes:
        assert completes[0].outcome == after.outcome
    if after.is_paused:
        assert not sends, "sent while paused"
    for send in sends:
        check_send(plan, before, after, send, now)
        assert can_reach(plan.steps[send.step].channel, contact), "sent without the data"
    for start in (c for c in commands if isinstance(c, StartTimer)):
        assert after.timer is not None and start.at == after.timer.due_at
        assert start.at >= now
    for cancel in (c for c in commands if isinstance(c, CancelTimer)):
        assert before.timer is not None and cancel.kind is before.timer.kind


def check_send(
    plan: JourneyPlan, before: JourneyState, after: JourneyState, send: Send, now: datetime
) -> None:
    """A Send is a first attempt of an untouched step, or the next retry of the current one."""
    assert (send.step, send.attempt) == (after.step, after.attempt)
    if send.attempt == 1:
        assert before.status_of(send.step) is StepStatus.NOT_STARTED, "step sent twice"
    else:
        assert before.step == send.step and before.attempt == send.attempt - 1
        assert before.phase in RETRY_PHASES | HELD_PHASES
        assert before.status_of(send.step) is StepStatus.SENDING
    if send.step == plan.follow_up_index:
        assert plan.follow_up is not None and after.delivered_at is not None
        assert now >= after.delivered_at + plan.follow_up.delay
