"""The journey state machine: ``(plan, contact, state, event, now) -> (state, commands)``.

Every move is a row of :data:`TRANSITIONS`, keyed by ``(phase, event type)``;
``docs/journey.md`` draws the machine and explains each edge. The function is
pure and total: any event in any phase yields a transition, never an
exception. Events that arrive late, twice or out of order either refine a
step's recorded status (with a ``RecordLate`` command) or do nothing.

The chain and the follow-up share one send sub-machine (sending, waiting to
retry, held while paused) described by a :class:`_Lane`; the lane says what
acceptance, delivery, failure and rejection lead to for that part of the
journey, so the table stays flat and the rules stay in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from herald.domain.channels import REQUIRED_FIELD, ContactField
from herald.domain.journey_events import (
    Cancel,
    CancelTimer,
    Command,
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
    StatusEvent,
    Suppressed,
    Transition,
)
from herald.domain.journey_late import record_off_path
from herald.domain.journey_plan import ContactData, JourneyPlan, can_reach
from herald.domain.journey_state import JourneyState, Outcome, Phase, StepStatus, Timer, TimerKind
from herald.domain.retry_policy import GiveUp, decide_retry
from herald.errors import ValidationError


@dataclass(frozen=True, slots=True)
class _Context:
    plan: JourneyPlan
    contact: ContactData
    now: datetime


_Handler = Callable[[_Context, JourneyState, Any], Transition]
_Next = Callable[[_Context, JourneyState], Transition]


def transition(
    plan: JourneyPlan,
    contact: Iterable[ContactField],
    state: JourneyState,
    event: JourneyEvent,
    now: datetime,
) -> Transition:
    """Apply ``event`` to ``state`` at ``now`` (an aware datetime).

    ``plan`` must be the plan the journey was launched with (a campaign's
    journey does not change while it runs); ``contact`` is the set of contact
    fields holding usable data. The result's commands are to be executed in
    order once the new state is stored. Only a naive ``now`` raises.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("now must be an aware datetime", field="now")
    context = _Context(plan, frozenset(contact), now.astimezone(UTC))
    handler = TRANSITIONS.get((state.phase, type(event)), _ignore)
    return handler(context, state, event)


# -- building blocks ------------------------------------------------------


def _ignore(ctx: _Context, state: JourneyState, event: object) -> Transition:
    return Transition(state)


def _stop_timer(state: JourneyState) -> tuple[JourneyState, tuple[Command, ...]]:
    """Clear the pending timer, with a CancelTimer command if there was one."""
    if state.timer is None:
        return state, ()
    return replace(state, timer=None), (CancelTimer(state.timer.kind, state.timer.step),)


def _prepend(commands: Iterable[Command], result: Transition) -> Transition:
    return Transition(result.state, (*commands, *result.commands))


def _complete(
    ctx: _Context, state: JourneyState, outcome: Outcome, *commands: Command
) -> Transition:
    stopped, cancel = _stop_timer(state)
    done = replace(stopped, phase=Phase.DONE, outcome=outcome, completed_at=ctx.now)
    return Transition(done, (*cancel, *commands, Complete(outcome)))


def _start_timer(state: JourneyState, timer: Timer, phase: Phase) -> Transition:
    started = replace(state, phase=phase, timer=timer)
    return Transition(started, (StartTimer(timer.kind, timer.step, timer.due_at),))


def _timer_fires(state: JourneyState, kind: TimerKind, step: int, now: datetime) -> bool:
    """Whether a timer event is the pending timer, and due. Others are stale: ignored."""
    timer = state.timer
    return timer is not None and timer.kind is kind and timer.step == step and now >= timer.due_at


def _answers_issued_send(state: JourneyState, step: int, attempt: int) -> bool:
    return step == state.step and 1 <= attempt <= state.attempt


# -- lanes: the chain and the follow-up -----------------------------------


@dataclass(frozen=True, slots=True)
class _Lane:
    """The send sub-machine's phases and where each ending leads."""

    sending: Phase
    retry_wait: Phase
    held: Phase
    accepted: _Next  # the step's message left (accepted or unknown)
    reached: _Next  # delivered or read
    failed: _Next  # accepted, then reported undelivered
    rejected: _Next  # refused for good, or retries given up


def _send(lane: _Lane, state: JourneyState, step: int, attempt: int) -> Transition:
    """Issue Send(step, attempt), or hold it while the journey is paused."""
    if state.is_paused:
        return Transition(replace(state, phase=lane.held, step=step, attempt=attempt - 1))
    sending = replace(state, phase=lane.sending, step=step, attempt=attempt)
    return Transition(sending.with_status(step, StepStatus.SENDING), (Send(step, attempt),))


def _advance(ctx: _Context, state: JourneyState, start: int) -> Transition:
    """Send the first chain step from ``start`` the contact can receive, skipping the rest."""
    state, commands = _stop_timer(state)
    skips: list[Command] = []
    for planned in ctx.plan.chain[start:]:
        if can_reach(planned.channel, ctx.contact):
            fresh = replace(state, throttled=0)
            return _prepend((*commands, *skips), _send(_CHAIN, fresh, planned.index, 1))
        state = state.with_status(planned.index, StepStatus.SKIPPED)
        skips.append(Skip(planned.index, SkipReason.for_field(REQUIRED_FIELD[planned.channel])))
    return _prepend(commands, _complete(ctx, state, Outcome.UNDELIVERABLE, *skips))


def _next_step(ctx: _Context, state: JourneyState) -> Transition:
    return _advance(ctx, state, (state.step or 0) + 1)


def _await_status(ctx: _Context, state: JourneyState) -> Transition:
    planned = ctx.plan.chain[state.step or 0]
    timer = Timer(TimerKind.DELIVERY_WINDOW, planned.index, ctx.now + planned.delivery_window)
    return _start_timer(state, timer, Phase.AWAITING_STATUS)


def _delivered(ctx: _Context, state: JourneyState) -> Transition:
    """A chain message reached the contact: wait for the follow-up, or finish."""
    state = replace(state, delivered_at=ctx.now)
    follow_up = ctx.plan.follow_up
    if follow_up is None:
        return _complete(ctx, state, Outcome.DELIVERED)
    planned = follow_up.step
    if not can_reach(planned.channel, ctx.contact):
        # Contact data does not change during a journey, so the follow-up
        # would be skipped when due: finish now rather than days later.
        skip = Skip(planned.index, SkipReason.for_field(REQUIRED_FIELD[planned.channel]))
        skipped = state.with_status(planned.index, StepStatus.SKIPPED)
        return _complete(ctx, skipped, Outcome.DELIVERED, skip)
    waiting = replace(state, step=planned.index, attempt=0, throttled=0)
    timer = Timer(TimerKind.FOLLOW_UP, planned.index, ctx.now + follow_up.delay)
    return _start_timer(waiting, timer, Phase.FOLLOW_UP_WAIT)


def _followed_up(ctx: _Context, state: JourneyState) -> Transition:
    return _complete(ctx, state, Outcome.FOLLOWED_UP)


def _follow_up_abandoned(ctx: _Context, state: JourneyState) -> Transition:
    return _complete(ctx, state, Outcome.DELIVERED)


_CHAIN = _Lane(
    sending=Phase.SENDING,
    retry_wait=Phase.RETRY_WAIT,
    held=Phase.HELD,
    accepted=_await_status,
    reached=_delivered,
    failed=_next_step,
    rejected=_next_step,
)

_FOLLOW_UP = _Lane(
    sending=Phase.FOLLOW_UP_SENDING,
    retry_wait=Phase.FOLLOW_UP_RETRY_WAIT,
    held=Phase.FOLLOW_UP_HELD,
    accepted=_followed_up,
    reached=_followed_up,
    failed=_followed_up,
    rejected=_follow_up_abandoned,
)

# -- handlers -------------------------------------------------------------


def _launch(ctx: _Context, state: JourneyState, event: Launch) -> Transition:
    return _advance(ctx, replace(state, launched_at=ctx.now), 0)


def _on_accepted(
    lane: _Lane,
    status: StepStatus,
    ctx: _Context,
    state: JourneyState,
    event: SendAccepted | SendOutcomeUnknown,
) -> Transition:
    """Any issued attempt of the current step accepted (or unknown): the step is out.

    Even an earlier attempt thought rejected counts, so no further attempt
    is ever issued after a sign that the message may have left.
    """
    if not _answers_issued_send(state, event.step, event.attempt):
        return record_off_path(state, event)
    stopped, cancel = _stop_timer(state)
    return _prepend(cancel, lane.accepted(ctx, stopped.with_status(event.step, status)))


def _on_retryable(
    lane: _Lane, ctx: _Context, state: JourneyState, event: SendRejectedRetryable
) -> Transition:
    if event.step != state.step or event.attempt != state.attempt:
        return _on_stale_rejection(ctx, state, event)
    planned = ctx.plan.steps[event.step]
    throttles = state.throttled + int(event.is_throttle)
    errors = state.attempt - throttles
    decision = decide_retry(
        planned.retry,
        errors=errors,
        throttles=throttles,
        is_throttle=event.is_throttle,
        retry_after=event.retry_after,
        now=ctx.now,
    )
    if isinstance(decision, GiveUp):
        return lane.rejected(ctx, state.with_status(event.step, StepStatus.REJECTED))
    timer = Timer(TimerKind.RETRY, event.step, decision.at)
    return _start_timer(replace(state, throttled=throttles), timer, lane.retry_wait)


def _on_terminal(
    lane: _Lane, ctx: _Context, state: JourneyState, event: SendRejectedTerminal
) -> Transition:
    if event.step != state.step or event.attempt != state.attempt:
        return _on_stale_rejection(ctx, state, event)
    return lane.rejected(ctx, state.with_status(event.step, StepStatus.REJECTED))


def _on_stale_rejection(
    ctx: _Context, state: JourneyState, event: SendRejectedRetryable | SendRejectedTerminal
) -> Transition:
    """A rejection of an attempt that already has its answer: the first answer stands."""
    if _answers_issued_send(state, event.step, event.attempt):
        return Transition(state)
    return record_off_path(state, event)


def _on_status(lane: _Lane, ctx: _Context, state: JourneyState, event: StatusEvent) -> Transition:
    """A delivery status for the current step, however early or late it arrives.

    A status implies acceptance, so it settles the step even while its
    send's answer or a retry is still pending.
    """
    if event.step != state.step or state.attempt == 0:
        return record_off_path(state, event)
    stopped, cancel = _stop_timer(state)
    if isinstance(event, Failed):
        return _prepend(
            cancel, lane.failed(ctx, stopped.with_status(event.step, StepStatus.FAILED))
        )
    status = StepStatus.READ if isinstance(event, Read) else StepStatus.DELIVERED
    return _prepend(cancel, lane.reached(ctx, stopped.with_status(event.step, status)))


def _on_retry_due(lane: _Lane, ctx: _Context, state: JourneyState, event: RetryDue) -> Transition:
    if not _timer_fires(state, TimerKind.RETRY, event.step, ctx.now):
        return Transition(state)
    return _send(lane, replace(state, timer=None), event.step, state.attempt + 1)


def _on_resume_held(lane: _Lane, ctx: _Context, state: JourneyState, event: Resume) -> Transition:
    return _send(lane, replace(state, is_paused=False), state.step or 0, state.attempt + 1)


def _on_window_expired(
    ctx: _Context, state: JourneyState, event: DeliveryWindowExpired
) -> Transition:
    """No final status in time: not delivered, except where silence confirms delivery.

    Only an *accepted* email counts as delivered by silence; an unknown send
    may never have reached the server.
    """
    if not _timer_fires(state, TimerKind.DELIVERY_WINDOW, event.step, ctx.now):
        return Transition(state)
    quiet = replace(state, timer=None)
    planned = ctx.plan.chain[event.step]
    if planned.is_confirmed_by_silence and state.status_of(event.step) is StepStatus.ACCEPTED:
        return _delivered(ctx, quiet.with_status(event.step, StepStatus.DELIVERED))
    return _next_step(ctx, quiet.with_status(event.step, StepStatus.EXPIRED))


def _on_follow_up_due(ctx: _Context, state: JourneyState, event: FollowUpDue) -> Transition:
    step = ctx.plan.follow_up_index
    if step is None or not _timer_fires(state, TimerKind.FOLLOW_UP, step, ctx.now):
        return Transition(state)
    return _send(_FOLLOW_UP, replace(state, timer=None), step, 1)


def _on_reply(ctx: _Context, state: JourneyState, event: Reply) -> Transition:
    return _complete(ctx, state, Outcome.REPLIED, RouteReply(event.text))


def _route_only(ctx: _Context, state: JourneyState, event: Reply) -> Transition:
    """Before launch or after completion a reply reaches the agent but changes nothing."""
    return Transition(state, (RouteReply(event.text),))


def _on_opt_out(ctx: _Context, state: JourneyState, event: OptOut) -> Transition:
    return _complete(ctx, state, Outcome.OPTED_OUT)


def _on_suppressed(ctx: _Context, state: JourneyState, event: Suppressed) -> Transition:
    """The address is suppressed: the person asked to stop, so no fallback either."""
    is_in_flight = (
        event.step == state.step
        and event.attempt == state.attempt
        and state.status_of(event.step) is StepStatus.SENDING
    )
    if is_in_flight:
        state = state.with_status(event.step, StepStatus.SUPPRESSED)
    return _complete(ctx, state, Outcome.OPTED_OUT)


def _on_cancel(ctx: _Context, state: JourneyState, event: Cancel) -> Transition:
    return _complete(ctx, state, Outcome.CANCELLED)


def _on_pause(ctx: _Context, state: JourneyState, event: Pause) -> Transition:
    return Transition(replace(state, is_paused=True))


def _on_resume(ctx: _Context, state: JourneyState, event: Resume) -> Transition:
    return Transition(replace(state, is_paused=False))


def _off_path(ctx: _Context, state: JourneyState, event: Any) -> Transition:
    return record_off_path(state, event)


# -- the table ------------------------------------------------------------

_Key = tuple[Phase, type[JourneyEvent]]

_STEP_EVENTS: tuple[type[JourneyEvent], ...] = (
    SendAccepted,
    SendOutcomeUnknown,
    SendRejectedRetryable,
    SendRejectedTerminal,
    Delivered,
    Read,
    Failed,
)
_LIVE_PHASES = tuple(phase for phase in Phase if phase is not Phase.DONE)


def _defaults() -> dict[_Key, _Handler]:
    """What every phase does unless a row below says otherwise."""
    rows: dict[_Key, _Handler] = {}
    for phase in Phase:
        rows.update({(phase, kind): _off_path for kind in _STEP_EVENTS})
        rows.update({(phase, kind): _ignore for kind in (Launch, DeliveryWindowExpired, RetryDue)})
        rows[phase, FollowUpDue] = _ignore
    for phase in _LIVE_PHASES:
        rows[phase, Reply] = _on_reply
        rows[phase, OptOut] = _on_opt_out
        rows[phase, Suppressed] = _on_suppressed
        rows[phase, Cancel] = _on_cancel
        rows[phase, Pause] = _on_pause
        rows[phase, Resume] = _on_resume
    for kind in (Reply, OptOut, Suppressed, Cancel, Pause, Resume):
        rows[Phase.DONE, kind] = _ignore
    return rows


def _lane_rows(lane: _Lane) -> dict[_Key, _Handler]:
    rows: dict[_Key, _Handler] = {}
    for phase in (lane.sending, lane.retry_wait, lane.held):
        rows[phase, SendAccepted] = partial(_on_accepted, lane, StepStatus.ACCEPTED)
        rows[phase, SendOutcomeUnknown] = partial(_on_accepted, lane, StepStatus.UNKNOWN)
        rows[phase, SendRejectedRetryable] = _on_stale_rejection
        rows[phase, SendRejectedTerminal] = _on_stale_rejection
        for kind in (Delivered, Read, Failed):
            rows[phase, kind] = partial(_on_status, lane)
    rows[lane.sending, SendRejectedRetryable] = partial(_on_retryable, lane)
    rows[lane.sending, SendRejectedTerminal] = partial(_on_terminal, lane)
    rows[lane.retry_wait, RetryDue] = partial(_on_retry_due, lane)
    rows[lane.held, Resume] = partial(_on_resume_held, lane)
    return rows


def _build_table() -> dict[_Key, _Handler]:
    table = _defaults()
    table.update(_lane_rows(_CHAIN))
    table.update(_lane_rows(_FOLLOW_UP))
    table[Phase.PENDING, Launch] = _launch
    table[Phase.PENDING, Reply] = _route_only
    for kind in (Delivered, Read, Failed):
        table[Phase.AWAITING_STATUS, kind] = partial(_on_status, _CHAIN)
    table[Phase.AWAITING_STATUS, DeliveryWindowExpired] = _on_window_expired
    table[Phase.FOLLOW_UP_WAIT, FollowUpDue] = _on_follow_up_due
    table[Phase.DONE, Reply] = _route_only
    return table


TRANSITIONS: dict[_Key, _Handler] = _build_table()
"""Every (phase, event type) pair, each mapped to its handler."""
