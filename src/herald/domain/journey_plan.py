"""The plan one contact's journey follows: the delivery chain and the follow-up.

This is the minimal shape the journey state machine needs, independent of
content (templates, variables) and of provider accounts. The engine builds a
:class:`JourneyPlan` from a campaign's journey; step ``index`` is the link
between the two (chain steps are ``0..n-1`` in order, the follow-up is ``n``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from herald.domain.channels import REQUIRED_FIELD, Channel, ContactField
from herald.domain.retry_policy import DEFAULT_RETRY_POLICY, RetryPolicy
from herald.errors import ValidationError

ContactData = frozenset[ContactField]
"""The contact fields that hold a usable value (a valid phone, a valid email)."""

DEFAULT_DELIVERY_WINDOWS: Mapping[Channel, timedelta] = {
    # "Delivered" arrives as soon as the phone is online, but phones stay
    # offline for hours (night, flight mode); after that the fallback should
    # reach the person another way while the message still matters.
    Channel.WHATSAPP: timedelta(hours=6),
    # Delivery reports are slower and carriers keep retrying; the SMS client
    # sets the message's validity period to the window so a late SMS cannot
    # race its fallback.
    Channel.SMS: timedelta(hours=12),
    # A call ends (answered, busy, no answer, failed) within minutes, queueing
    # under the caller id's calls-per-second limit included.
    Channel.VOICE: timedelta(minutes=30),
    # SMTP acceptance is the delivery truth; this window only leaves time for
    # an asynchronous bounce (DSN) before the email counts as delivered.
    Channel.EMAIL: timedelta(hours=1),
}

CONFIRMED_BY_SILENCE: frozenset[Channel] = frozenset({Channel.EMAIL})
"""Channels whose accepted message counts as delivered when its window passes quietly.

Email has no delivered receipt: a server that accepted the message is the
last word unless a bounce follows. Every other channel reports delivery
explicitly, so silence there means "not delivered".
"""

MIN_FOLLOW_UP_DELAY = timedelta(days=1)
MAX_FOLLOW_UP_DELAY = timedelta(days=7)
MAX_DELIVERY_WINDOW = timedelta(days=30)


def can_reach(channel: Channel, contact: ContactData) -> bool:
    """Whether the contact has the data the channel addresses."""
    return REQUIRED_FIELD[channel] in contact


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One message of the journey, as far as the state machine cares.

    ``delivery_window`` starts when the provider accepts the message (or when
    the send's outcome becomes unknown); it is not used for the follow-up,
    whose outcome is settled at acceptance.
    """

    index: int
    channel: Channel
    delivery_window: timedelta
    retry: RetryPolicy = DEFAULT_RETRY_POLICY
    is_confirmed_by_silence: bool = False

    def __post_init__(self) -> None:
        where = f"steps[{self.index}]"
        if self.index < 0:
            raise ValidationError("step index cannot be negative", field=f"{where}.index")
        if not timedelta(0) < self.delivery_window <= MAX_DELIVERY_WINDOW:
            raise ValidationError(
                f"delivery window must be positive and at most {MAX_DELIVERY_WINDOW.days} days",
                field=f"{where}.delivery_window",
            )

    @classmethod
    def default(cls, index: int, channel: Channel, retry: RetryPolicy | None = None) -> PlannedStep:
        """A step with the channel's default window and delivery confirmation."""
        return cls(
            index=index,
            channel=channel,
            delivery_window=DEFAULT_DELIVERY_WINDOWS[channel],
            retry=retry or DEFAULT_RETRY_POLICY,
            is_confirmed_by_silence=channel in CONFIRMED_BY_SILENCE,
        )


@dataclass(frozen=True, slots=True)
class FollowUp:
    """The single no-reply follow-up, sent ``delay`` after the chain's delivery."""

    step: PlannedStep
    delay: timedelta

    def __post_init__(self) -> None:
        if not MIN_FOLLOW_UP_DELAY <= self.delay <= MAX_FOLLOW_UP_DELAY:
            raise ValidationError(
                "follow-up delay must be between 1 and 7 days", field="follow_up.delay"
            )


@dataclass(frozen=True, slots=True)
class JourneyPlan:
    """A primary step, its fallbacks in order, and an optional follow-up."""

    chain: tuple[PlannedStep, ...]
    follow_up: FollowUp | None = None
    _steps: tuple[PlannedStep, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.chain:
            raise ValidationError("a journey needs a primary step", field="chain")
        for position, step in enumerate(self.chain):
            if step.index != position:
                raise ValidationError(
                    f"chain step at position {position} has index {step.index}",
                    field=f"chain[{position}].index",
                )
        steps = self.chain
        if self.follow_up is not None:
            if self.follow_up.step.index != len(self.chain):
                raise ValidationError(
                    f"the follow-up step must have index {len(self.chain)}",
                    field="follow_up.step.index",
                )
            steps = (*steps, self.follow_up.step)
        object.__setattr__(self, "_steps", steps)

    @classmethod
    def from_channels(
        cls,
        chain: Sequence[Channel],
        *,
        follow_up: Channel | None = None,
        follow_up_delay: timedelta = MIN_FOLLOW_UP_DELAY,
        retry: RetryPolicy | None = None,
    ) -> JourneyPlan:
        """A plan with every step on its channel's defaults."""
        steps = tuple(PlannedStep.default(i, channel, retry) for i, channel in enumerate(chain))
        planned_follow_up = None
        if follow_up is not None:
            planned_follow_up = FollowUp(
                PlannedStep.default(len(steps), follow_up, retry), follow_up_delay
            )
        return cls(steps, planned_follow_up)

    @property
    def steps(self) -> tuple[PlannedStep, ...]:
        """Every step by index: the chain, then the follow-up if any."""
        return self._steps

    @property
    def follow_up_index(self) -> int | None:
        return None if self.follow_up is None else len(self.chain)

    def find_step(self, index: int | None) -> PlannedStep | None:
        """The step with this index, or ``None`` for an index the plan lacks."""
        if index is None or not 0 <= index < len(self._steps):
            return None
        return self._steps[index]
