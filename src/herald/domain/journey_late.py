"""Events that no longer drive the journey: duplicates, late and contradictory ones.

A send result or delivery status that does not concern the step the journey
is working on (or arrives after completion) never changes the phase, the
timer or the outcome. It may still refine what is known about its step
(a step whose window expired turns out delivered), and then it is recorded
on the contact's timeline with a :class:`RecordLate` command. An exact
duplicate, whose effect is already reflected, is a silent no-op: webhooks
and workers may deliver anything twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from herald.domain.journey_events import (
    Delivered,
    Failed,
    LateReason,
    Read,
    RecordLate,
    SendAccepted,
    SendOutcomeUnknown,
    SendResult,
    StatusEvent,
    Transition,
)
from herald.domain.journey_state import REACHED_STATUSES, JourneyState, StepStatus

_NEVER_SENT = frozenset({StepStatus.NOT_STARTED, StepStatus.SKIPPED, StepStatus.SUPPRESSED})


@dataclass(frozen=True, slots=True)
class _Effect:
    """What a late event does to its step: a new status, a timeline record, both or neither."""

    status: StepStatus | None = None
    is_recorded: bool = True
    reason: LateReason | None = None


_DUPLICATE = _Effect(is_recorded=False)
_CONTRADICTION = _Effect(reason=LateReason.UNEXPECTED)


def _effect(current: StepStatus, event: SendResult | StatusEvent) -> _Effect:
    if current in _NEVER_SENT:
        return _CONTRADICTION
    if isinstance(event, Delivered):
        return _DUPLICATE if current in REACHED_STATUSES else _Effect(StepStatus.DELIVERED)
    if isinstance(event, Read):
        return _on_read(current)
    if isinstance(event, Failed):
        return _on_failed(current)
    if isinstance(event, SendAccepted):
        return _on_accepted(current)
    if isinstance(event, SendOutcomeUnknown):
        return _Effect(StepStatus.UNKNOWN) if current is StepStatus.SENDING else _DUPLICATE
    # A rejection: only an in-flight send can still learn it was refused.
    if current is StepStatus.SENDING:
        return _Effect(StepStatus.REJECTED)
    return _DUPLICATE if current is StepStatus.REJECTED else _CONTRADICTION


def _on_read(current: StepStatus) -> _Effect:
    if current is StepStatus.READ:
        return _DUPLICATE
    if current is StepStatus.DELIVERED:
        # The ordinary next status of a delivered message: nothing is late.
        return _Effect(StepStatus.READ, is_recorded=False)
    return _Effect(StepStatus.READ)


def _on_failed(current: StepStatus) -> _Effect:
    if current in (StepStatus.FAILED, StepStatus.REJECTED):
        return _DUPLICATE
    if current in REACHED_STATUSES:
        return _Effect(reason=LateReason.OUT_OF_ORDER)
    return _Effect(StepStatus.FAILED)


def _on_accepted(current: StepStatus) -> _Effect:
    if current is StepStatus.SENDING:
        return _Effect(StepStatus.ACCEPTED)
    if current is StepStatus.UNKNOWN:
        # The lost answer turned up after all: refine, nothing else changes.
        return _Effect(StepStatus.ACCEPTED, is_recorded=False)
    if current is StepStatus.REJECTED:
        return _CONTRADICTION
    return _DUPLICATE


def _is_never_issued(state: JourneyState, event: SendResult | StatusEvent) -> bool:
    """A send result for an attempt never issued (attempts are known for the current step)."""
    if isinstance(event, Delivered | Read | Failed):
        return False
    return event.attempt < 1 or (event.step == state.step and event.attempt > state.attempt)


def record_off_path(state: JourneyState, event: SendResult | StatusEvent) -> Transition:
    """Refine the event's step status if it tells something new; never move the journey."""
    effect = (
        _CONTRADICTION
        if _is_never_issued(state, event)
        else _effect(state.status_of(event.step), event)
    )
    updated = state if effect.status is None else state.with_status(event.step, effect.status)
    if not effect.is_recorded:
        return Transition(updated)
    reason = effect.reason
    if reason is None:
        reason = LateReason.AFTER_COMPLETION if state.is_done else LateReason.SUPERSEDED
    return Transition(updated, (RecordLate(event, reason),))
