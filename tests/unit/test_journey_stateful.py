"""Random event sequences against a small campaign of journeys, checking the invariants.

Hypothesis drives three contacts through one plan with any mix of send
answers (current, stale, never issued), statuses for any step, due and stray
timers, time jumps, duplicates of past events, pauses, resumes, cancels,
replies and opt-outs. After every event the properties DESIGN.md promises
must hold: no step is sent twice (a step's next attempt only follows a
retryable rejection of the previous one, never a sign it left), one outcome
per contact and never changed, nothing sent after an outcome or while
paused, the follow-up at most once and never before ``delivered_at +
delay``, and the campaign is sent exactly when every contact has an outcome.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from herald.domain.campaign_progress import is_campaign_sent
from herald.domain.channels import Channel, ContactField
from herald.domain.journey import transition
from herald.domain.journey_events import (
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
from herald.domain.journey_plan import ContactData, FollowUp, JourneyPlan, PlannedStep
from herald.domain.journey_state import JourneyState, Outcome, Phase
from herald.domain.retry_policy import RetryPolicy
from tests.unit.journey_support import T0, check_transition

CONTACTS = 3
PHONE_ONLY = frozenset({ContactField.PHONE})
EVERYTHING = frozenset(ContactField)
CONTACT = st.sampled_from(
    [EVERYTHING, EVERYTHING, PHONE_ONLY, PHONE_ONLY, frozenset({ContactField.EMAIL}), frozenset()]
)
STEP = st.integers(-1, 5)
ATTEMPT = st.integers(0, 4)
RETRY_AFTER = st.sampled_from([None, None, None, timedelta(minutes=2), timedelta(hours=2)])
ANSWERS = st.sampled_from(
    [
        *("accepted", "accepted", "unknown", "retryable", "retryable", "throttled"),
        *("terminal", "suppressed", "delivered", "delivered", "read", "failed"),
    ]
)


@st.composite
def plans(draw: st.DrawFn) -> JourneyPlan:
    retry = RetryPolicy(
        max_errors=draw(st.integers(1, 3)),
        max_throttles=draw(st.integers(0, 3)),
        base_delay=timedelta(seconds=draw(st.integers(1, 120))),
        max_delay=timedelta(minutes=10),
        max_retry_after=timedelta(hours=1),
    )

    def step(index: int) -> PlannedStep:
        return PlannedStep(
            index=index,
            channel=draw(st.sampled_from(Channel)),
            delivery_window=timedelta(minutes=draw(st.integers(1, 3 * 24 * 60))),
            retry=retry,
            is_confirmed_by_silence=draw(st.booleans()),
        )

    chain = tuple(step(i) for i in range(draw(st.integers(1, 3))))
    follow_up = None
    if draw(st.booleans()):
        delay = timedelta(hours=draw(st.integers(24, 7 * 24)))
        follow_up = FollowUp(step(len(chain)), delay)
    return JourneyPlan(chain, follow_up)


@dataclass
class Tracker:
    """One contact's journey plus what the test knows about its history."""

    contact: ContactData
    state: JourneyState = field(default_factory=JourneyState)
    attempts: dict[int, list[int]] = field(default_factory=dict)
    retryable: set[tuple[int, int]] = field(default_factory=set)
    settled: set[int] = field(default_factory=set)
    completions: list[Complete] = field(default_factory=list)
    history: list[JourneyEvent] = field(default_factory=list)

    def note_fed(self, event: JourneyEvent) -> None:
        """Remember facts about issued sends that forbid or allow a later Send."""
        issued = self.attempts.get(getattr(event, "step", -99), [])
        if isinstance(event, SendRejectedRetryable) and event.attempt in issued:
            self.retryable.add((event.step, event.attempt))
        if isinstance(event, SendAccepted | SendOutcomeUnknown) and event.attempt in issued:
            self.settled.add(event.step)
        if isinstance(event, Delivered | Read | Failed) and issued:
            self.settled.add(event.step)


class JourneyCampaign(RuleBasedStateMachine):
    plan: JourneyPlan
    journeys: list[Tracker]
    now: datetime

    @initialize(plan=plans(), contacts=st.lists(CONTACT, min_size=CONTACTS, max_size=CONTACTS))
    def start(self, plan: JourneyPlan, contacts: list[ContactData]) -> None:
        """Launch every contact, as a campaign does (a launch while paused is a rule)."""
        self.plan = plan
        self.journeys = [Tracker(contact) for contact in contacts]
        self.now = T0
        for index in range(CONTACTS):
            self.feed(index, Launch())

    def feed(self, index: int, event: JourneyEvent) -> None:
        journey = self.journeys[index]
        before = journey.state
        result = transition(self.plan, journey.contact, before, event, self.now)
        check_transition(self.plan, journey.contact, before, result, self.now)
        journey.note_fed(event)  # first: a Send answering this very event must respect it
        for send in (c for c in result.commands if isinstance(c, Send)):
            self.check_send_allowed(journey, send)
            journey.attempts.setdefault(send.step, []).append(send.attempt)
        journey.completions += [c for c in result.commands if isinstance(c, Complete)]
        journey.state = result.state
        journey.history.append(event)
        self.check_stop_events(before, event, result.state)

    def check_send_allowed(self, journey: Tracker, send: Send) -> None:
        issued = journey.attempts.get(send.step, [])
        assert send.attempt == len(issued) + 1, f"{send} after attempts {issued}"
        assert send.step not in journey.settled, f"{send} after the step had left"
        if send.attempt > 1:
            assert (send.step, send.attempt - 1) in journey.retryable, f"{send} without cause"

    def check_stop_events(
        self, before: JourneyState, event: JourneyEvent, after: JourneyState
    ) -> None:
        stops = isinstance(event, Cancel | OptOut | Suppressed)
        stops = stops or (isinstance(event, Reply) and before.phase is not Phase.PENDING)
        if stops:
            assert after.outcome is not None
        if isinstance(event, Reply) and not before.is_done and before.phase is not Phase.PENDING:
            assert after.outcome is Outcome.REPLIED

    # -- rules ------------------------------------------------------------
    # Most rules aim at a contact still under way (events for finished ones
    # are exercised too, but a finished journey has little left to test).

    def pick(self, data: st.DataObject) -> int:
        live = [i for i, journey in enumerate(self.journeys) if not journey.state.is_done]
        if live and data.draw(st.integers(0, 9)) > 0:
            return data.draw(st.sampled_from(live))
        return data.draw(st.integers(0, CONTACTS - 1))

    @staticmethod
    def answer(state: JourneyState, answer: str, retry_after: timedelta | None) -> JourneyEvent:
        step, attempt = state.step or 0, max(state.attempt, 1)
        return {
            "accepted": SendAccepted(step, attempt, "id"),
            "unknown": SendOutcomeUnknown(step, attempt),
            "retryable": SendRejectedRetryable(step, attempt, "500", retry_after),
            "throttled": SendRejectedRetryable(step, attempt, "429", retry_after, True),
            "terminal": SendRejectedTerminal(step, attempt, "131026"),
            "suppressed": Suppressed(step, attempt),
            "delivered": Delivered(step),
            "read": Read(step),
            "failed": Failed(step, "x"),
        }[answer]

    @rule(data=st.data(), answer=ANSWERS, retry_after=RETRY_AFTER)
    def answer_current_send(
        self, data: st.DataObject, answer: str, retry_after: timedelta | None
    ) -> None:
        index = self.pick(data)
        self.feed(index, self.answer(self.journeys[index].state, answer, retry_after))

    @rule(data=st.data(), answer=ANSWERS, retry_after=RETRY_AFTER)
    def progress(self, data: st.DataObject, answer: str, retry_after: timedelta | None) -> None:
        """The event a journey in this phase most plausibly gets next."""
        index = self.pick(data)
        state = self.journeys[index].state
        if state.phase in (Phase.HELD, Phase.FOLLOW_UP_HELD):
            self.feed(index, Resume())
        elif state.timer is not None and (
            state.phase is not Phase.AWAITING_STATUS or answer in ("accepted", "unknown")
        ):
            self.fire_timer(index)  # in AWAITING_STATUS, a window sometimes passes
        else:
            self.feed(index, self.answer(state, answer, retry_after))

    @rule(
        data=st.data(),
        kind=st.sampled_from([SendAccepted, SendOutcomeUnknown, SendRejectedTerminal]),
        step=STEP,
        attempt=ATTEMPT,
    )
    def stray_send_answer(self, data: st.DataObject, kind: type, step: int, attempt: int) -> None:
        event = kind(step, attempt, "x") if kind is SendRejectedTerminal else kind(step, attempt)
        self.feed(self.pick(data), event)

    @rule(
        data=st.data(),
        status=st.sampled_from(["delivered", "read", "failed"]),
        step=STEP,
    )
    def stray_status(self, data: st.DataObject, status: str, step: int) -> None:
        event = {"delivered": Delivered(step), "read": Read(step), "failed": Failed(step, "x")}
        self.feed(self.pick(data), event[status])

    @rule(data=st.data())
    def fire_due_timer(self, data: st.DataObject) -> None:
        self.fire_timer(self.pick(data))

    def fire_timer(self, index: int) -> None:
        timer = self.journeys[index].state.timer
        if timer is not None:
            self.now = max(self.now, timer.due_at)
            self.feed(index, self.timer_event(timer.kind.value, timer.step))

    @rule(
        data=st.data(),
        kind=st.sampled_from(["retry", "delivery_window", "follow_up"]),
        step=STEP,
    )
    def stray_timer(self, data: st.DataObject, kind: str, step: int) -> None:
        self.feed(self.pick(data), self.timer_event(kind, step))

    @staticmethod
    def timer_event(kind: str, step: int) -> JourneyEvent:
        if kind == "retry":
            return RetryDue(step)
        if kind == "delivery_window":
            return DeliveryWindowExpired(step)
        return FollowUpDue()

    @rule(delta=st.timedeltas(timedelta(0), timedelta(days=3)))
    def advance_time(self, delta: timedelta) -> None:
        self.now += delta

    @rule(
        data=st.data(),
        event=st.sampled_from(
            [Pause(), Resume(), Pause(), Resume(), Launch(), Cancel(), OptOut(), Reply("yes")]
        ),
    )
    def control(self, data: st.DataObject, event: JourneyEvent) -> None:
        self.feed(self.pick(data), event)

    @rule(data=st.data())
    def replay_past_event(self, data: st.DataObject) -> None:
        index = self.pick(data)
        history = self.journeys[index].history
        if history:
            self.feed(index, data.draw(st.sampled_from(history)))

    # -- invariants across the whole history ------------------------------

    @invariant()
    def one_outcome_per_contact(self) -> None:
        for journey in self.journeys:
            assert len(journey.completions) <= 1
            if journey.state.is_done:
                assert [c.outcome for c in journey.completions] == [journey.state.outcome]
            else:
                assert journey.completions == []

    @invariant()
    def follow_up_sent_at_most_once(self) -> None:
        follow_up = self.plan.follow_up_index
        for journey in self.journeys:
            if follow_up is not None:
                assert journey.attempts.get(follow_up, []).count(1) <= 1

    @invariant()
    def campaign_is_sent_exactly_when_every_contact_has_an_outcome(self) -> None:
        counts = Counter(j.state.outcome for j in self.journeys if j.state.outcome is not None)
        everyone_done = all(journey.state.is_done for journey in self.journeys)
        assert is_campaign_sent(CONTACTS, counts) == everyone_done


JourneyCampaign.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_journey_campaign = JourneyCampaign.TestCase
