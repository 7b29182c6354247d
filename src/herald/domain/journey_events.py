"""What can happen to a journey (events) and what the engine must do (commands).

Events come from four places: the engine's own send results (``Send*``,
``Suppressed``), provider status webhooks (``Delivered``, ``Read``,
``Failed``), due timers (``*Due``, ``DeliveryWindowExpired``) and people
(``Reply``, ``OptOut``, and ``Launch``/``Pause``/``Resume``/``Cancel`` from the
campaign's owner). Steps are plan indexes; ``attempt`` is the 1-based number
of the Send command the result answers. None carries a time: the caller
passes ``now`` to :func:`herald.domain.journey.transition`.

Commands are intents for the engine, executed after the new state is stored.
The stored state is the truth: timer commands describe how ``state.timer``
changed, they are not the only record of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from herald.domain.channels import ContactField
from herald.domain.journey_state import JourneyState, Outcome, TimerKind

# -- events ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Launch:
    """The campaign started this contact's journey."""


@dataclass(frozen=True, slots=True)
class SendAccepted:
    """The provider accepted Send(step, attempt)."""

    step: int
    attempt: int
    provider_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class SendRejectedRetryable:
    """The provider refused Send(step, attempt) for now.

    ``is_throttle`` marks rate limiting (HTTP 429, WhatsApp 130429), which has
    its own, larger retry budget.
    """

    step: int
    attempt: int
    code: str
    retry_after: timedelta | None = None
    is_throttle: bool = False


@dataclass(frozen=True, slots=True)
class SendRejectedTerminal:
    """The provider refused Send(step, attempt) for good (invalid number, 131026...)."""

    step: int
    attempt: int
    code: str


@dataclass(frozen=True, slots=True)
class SendOutcomeUnknown:
    """Send(step, attempt) left Herald but its answer was lost (crash, read timeout)."""

    step: int
    attempt: int


@dataclass(frozen=True, slots=True)
class Suppressed:
    """At send time, the address of Send(step, attempt) was on the suppression list."""

    step: int
    attempt: int


@dataclass(frozen=True, slots=True)
class Delivered:
    step: int


@dataclass(frozen=True, slots=True)
class Read:
    """Read implies delivered, whatever order the webhooks arrive in."""

    step: int


@dataclass(frozen=True, slots=True)
class Failed:
    """The provider reports an accepted message as undelivered (or a bounce)."""

    step: int
    code: str


@dataclass(frozen=True, slots=True)
class DeliveryWindowExpired:
    step: int


@dataclass(frozen=True, slots=True)
class RetryDue:
    step: int


@dataclass(frozen=True, slots=True)
class FollowUpDue:
    pass


@dataclass(frozen=True, slots=True)
class Reply:
    """An inbound message routed to this journey (not an opt-out keyword)."""

    text: str


@dataclass(frozen=True, slots=True)
class OptOut:
    """The contact asked to stop (STOP keyword, unsubscribe, agent action)."""


@dataclass(frozen=True, slots=True)
class Pause:
    pass


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class Cancel:
    pass


SendResult = SendAccepted | SendRejectedRetryable | SendRejectedTerminal | SendOutcomeUnknown
StatusEvent = Delivered | Read | Failed
TimerEvent = DeliveryWindowExpired | RetryDue | FollowUpDue

JourneyEvent = (
    Launch
    | SendResult
    | Suppressed
    | StatusEvent
    | TimerEvent
    | Reply
    | OptOut
    | Pause
    | Resume
    | Cancel
)

EVENT_TYPES: tuple[type[JourneyEvent], ...] = (
    Launch,
    SendAccepted,
    SendRejectedRetryable,
    SendRejectedTerminal,
    SendOutcomeUnknown,
    Suppressed,
    Delivered,
    Read,
    Failed,
    DeliveryWindowExpired,
    RetryDue,
    FollowUpDue,
    Reply,
    OptOut,
    Pause,
    Resume,
    Cancel,
)

# -- commands -------------------------------------------------------------


class SkipReason(StrEnum):
    MISSING_PHONE = "missing_phone"
    MISSING_EMAIL = "missing_email"

    @classmethod
    def for_field(cls, missing: ContactField) -> SkipReason:
        return cls(f"missing_{missing.value}")


class LateReason(StrEnum):
    """Why an event was recorded without effect."""

    SUPERSEDED = "superseded"  # the journey had already moved past that step
    AFTER_COMPLETION = "after_completion"  # the contact already had an outcome
    OUT_OF_ORDER = "out_of_order"  # contradicts a final status (failed after delivered)
    UNEXPECTED = "unexpected"  # matches no send this journey issued


@dataclass(frozen=True, slots=True)
class Send:
    """Send the step's message. Record the intent durably before calling the provider."""

    step: int
    attempt: int


@dataclass(frozen=True, slots=True)
class Skip:
    """The step was skipped; record it with the reason."""

    step: int
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class StartTimer:
    kind: TimerKind
    step: int
    at: datetime


@dataclass(frozen=True, slots=True)
class CancelTimer:
    kind: TimerKind
    step: int


@dataclass(frozen=True, slots=True)
class RouteReply:
    """Hand the reply to the campaign's conversation and agent."""

    text: str


@dataclass(frozen=True, slots=True)
class Complete:
    """The contact has its final outcome: update counters, maybe finish the campaign."""

    outcome: Outcome


@dataclass(frozen=True, slots=True)
class RecordLate:
    """Record the event on the contact's timeline; it changes nothing else."""

    event: JourneyEvent
    reason: LateReason


Command = Send | Skip | StartTimer | CancelTimer | RouteReply | Complete | RecordLate


@dataclass(frozen=True, slots=True)
class Transition:
    """The new state and the commands to execute, in order."""

    state: JourneyState
    commands: tuple[Command, ...] = ()
