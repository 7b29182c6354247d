"""Where one contact stands in its journey: a small value the engine keeps in a row.

The state is everything the state machine needs to decide the next move and
to guarantee that no step is ever sent twice: the phase, the step being
worked on and how many sends were issued for it, each step's status, the one
pending timer, the pause flag and the final outcome. :meth:`JourneyState.to_dict`
flattens it into JSON-compatible scalars (one per column if the engine likes);
:meth:`JourneyState.from_dict` reads it back and names the field at fault when
the data is damaged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from herald.errors import ValidationError

JsonValue = str | int | bool | None | list[str]
"""A value in the flat stored form of a state."""

_E = TypeVar("_E", bound=StrEnum)


class Phase(StrEnum):
    """The journey's position. Chain and follow-up have mirrored send phases."""

    PENDING = "pending"  # not launched
    SENDING = "sending"  # Send(step, attempt) issued, awaiting the provider's answer
    RETRY_WAIT = "retry_wait"  # retryable rejection; RETRY timer pending
    HELD = "held"  # a chain send is due but the journey is paused
    AWAITING_STATUS = "awaiting_status"  # accepted or unknown; DELIVERY_WINDOW timer
    FOLLOW_UP_WAIT = "follow_up_wait"  # delivered; FOLLOW_UP timer pending
    FOLLOW_UP_SENDING = "follow_up_sending"
    FOLLOW_UP_RETRY_WAIT = "follow_up_retry_wait"
    FOLLOW_UP_HELD = "follow_up_held"
    DONE = "done"  # outcome set; nothing is ever sent again


class StepStatus(StrEnum):
    """What happened to one step of the plan."""

    NOT_STARTED = "not_started"
    SKIPPED = "skipped"  # the contact lacks the data the channel needs
    SENDING = "sending"  # at least one Send issued, no acceptance yet
    REJECTED = "rejected"  # terminal rejection, or retries given up
    SUPPRESSED = "suppressed"  # address on the suppression list at send time
    UNKNOWN = "unknown"  # request sent, answer lost: never resent
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"  # accepted, then reported undelivered
    EXPIRED = "expired"  # no final status within the delivery window


SENT_STATUSES = frozenset(
    {
        StepStatus.SENDING,
        StepStatus.REJECTED,
        StepStatus.UNKNOWN,
        StepStatus.ACCEPTED,
        StepStatus.DELIVERED,
        StepStatus.READ,
        StepStatus.FAILED,
        StepStatus.EXPIRED,
    }
)
"""Statuses of a step for which at least one Send command was issued."""

REACHED_STATUSES = frozenset({StepStatus.DELIVERED, StepStatus.READ})


class Outcome(StrEnum):
    """How a contact's journey ended. Exactly one per contact, never changed."""

    REPLIED = "replied"
    FOLLOWED_UP = "followed_up"
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"
    OPTED_OUT = "opted_out"
    CANCELLED = "cancelled"


class TimerKind(StrEnum):
    RETRY = "retry"
    DELIVERY_WINDOW = "delivery_window"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class Timer:
    """The journey's one pending timer. ``step`` is the step it concerns."""

    kind: TimerKind
    step: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class JourneyState:
    """One contact's journey. ``JourneyState()`` is a journey not yet launched.

    ``step`` is the plan step being worked on (``None`` before launch);
    ``attempt`` counts the Send commands issued for it, so a held or
    retry-waiting step sends ``attempt + 1`` next; ``throttled`` counts its
    throttled rejections. ``steps`` holds each step's status by index and may
    be shorter than the plan: missing entries are ``NOT_STARTED``.
    """

    phase: Phase = Phase.PENDING
    step: int | None = None
    attempt: int = 0
    throttled: int = 0
    steps: tuple[StepStatus, ...] = ()
    timer: Timer | None = None
    is_paused: bool = False
    outcome: Outcome | None = None
    launched_at: datetime | None = None
    delivered_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def is_done(self) -> bool:
        return self.phase is Phase.DONE

    @property
    def due_at(self) -> datetime | None:
        """When the engine must wake this journey (index this column)."""
        return None if self.timer is None else self.timer.due_at

    def status_of(self, step: int) -> StepStatus:
        if 0 <= step < len(self.steps):
            return self.steps[step]
        return StepStatus.NOT_STARTED

    def with_status(self, step: int, status: StepStatus) -> JourneyState:
        padded = self.steps + (StepStatus.NOT_STARTED,) * (step + 1 - len(self.steps))
        return replace(self, steps=(*padded[:step], status, *padded[step + 1 :]))

    def to_dict(self) -> dict[str, JsonValue]:
        """Flat JSON-compatible form; datetimes as ISO 8601 UTC strings."""
        timer = self.timer
        return {
            "phase": self.phase.value,
            "step": self.step,
            "attempt": self.attempt,
            "throttled": self.throttled,
            "steps": [status.value for status in self.steps],
            "timer_kind": None if timer is None else timer.kind.value,
            "timer_step": None if timer is None else timer.step,
            "timer_due_at": None if timer is None else _dump_time(timer.due_at),
            "is_paused": self.is_paused,
            "outcome": None if self.outcome is None else self.outcome.value,
            "launched_at": _dump_time(self.launched_at),
            "delivered_at": _dump_time(self.delivered_at),
            "completed_at": _dump_time(self.completed_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> JourneyState:
        """Rebuild a state written by :meth:`to_dict`; raise ``ValidationError`` on bad data."""
        reader = _Reader(data)
        timer_kind = reader.optional_enum("timer_kind", TimerKind)
        timer = None
        if timer_kind is not None:
            step = reader.integer("timer_step")
            timer = Timer(timer_kind, step, reader.time("timer_due_at"))
        phase = reader.enum("phase", Phase)
        outcome = reader.optional_enum("outcome", Outcome)
        if (phase is Phase.DONE) != (outcome is not None):
            raise ValidationError(
                "an outcome is set exactly when the phase is done", field="outcome"
            )
        return cls(
            phase=phase,
            step=reader.optional_integer("step"),
            attempt=reader.integer("attempt"),
            throttled=reader.integer("throttled"),
            steps=reader.statuses("steps"),
            timer=timer,
            is_paused=reader.boolean("is_paused"),
            outcome=outcome,
            launched_at=reader.optional_time("launched_at"),
            delivered_at=reader.optional_time("delivered_at"),
            completed_at=reader.optional_time("completed_at"),
        )


def step_changes(
    before: JourneyState, after: JourneyState
) -> list[tuple[int, StepStatus, StepStatus]]:
    """``(step, old, new)`` for each step whose status a transition changed.

    Progress counters per step and status can be kept incrementally from
    these, without rescanning journeys.
    """
    size = max(len(before.steps), len(after.steps))
    changes = [(step, before.status_of(step), after.status_of(step)) for step in range(size)]
    return [change for change in changes if change[1] is not change[2]]


def _dump_time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _member(kind: type[_E], value: object) -> _E | None:
    if not isinstance(value, str):
        return None
    try:
        return kind(value)
    except ValueError:
        return None


class _Reader:
    """Typed access to a stored state, naming the field when a value is wrong."""

    def __init__(self, data: Mapping[str, object]) -> None:
        self._data = data

    def _get(self, name: str) -> object:
        if name not in self._data:
            raise ValidationError(f"journey state lacks {name!r}", field=name)
        return self._data[name]

    def _fail(self, name: str, expected: str) -> ValidationError:
        return ValidationError(
            f"journey state field {name!r} must be {expected}, got {self._data.get(name)!r}",
            field=name,
        )

    def integer(self, name: str) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._fail(name, "a non-negative integer")
        return value

    def optional_integer(self, name: str) -> int | None:
        return None if self._get(name) is None else self.integer(name)

    def boolean(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise self._fail(name, "true or false")
        return value

    def enum(self, name: str, kind: type[_E]) -> _E:
        member = _member(kind, self._get(name))
        if member is None:
            raise self._fail(name, f"one of {', '.join(kind)}")
        return member

    def optional_enum(self, name: str, kind: type[_E]) -> _E | None:
        return None if self._get(name) is None else self.enum(name, kind)

    def time(self, name: str) -> datetime:
        value = self._get(name)
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise self._fail(name, "an ISO 8601 datetime with a UTC offset")
        return moment.astimezone(UTC)

    def optional_time(self, name: str) -> datetime | None:
        return None if self._get(name) is None else self.time(name)

    def statuses(self, name: str) -> tuple[StepStatus, ...]:
        value = self._get(name)
        if not isinstance(value, list | tuple):
            raise self._fail(name, "a list of step statuses")
        members = [_member(StepStatus, item) for item in value]
        if None in members:
            raise self._fail(name, f"a list of {', '.join(StepStatus)}")
        return tuple(member for member in members if member is not None)
