"""Campaign rules: the lifecycle as a transition table, and the journey definition.

Lifecycle, drawn with every edge explained in ``docs/campaigns.md``::

    draft      --schedule-->   scheduled   --launch-->   running  --complete--> sent
    draft      --launch-->     running
    scheduled  --schedule-->   scheduled   (new start time)
    scheduled  --unschedule--> draft
    scheduled  --pause-->      paused      <--pause--    running
    paused     --resume-->     running or scheduled
    paused     --complete-->   sent
    scheduled, running, paused --cancel--> cancelled

Resuming a campaign paused before it started returns it to ``scheduled``
(it starts at its time, or at once if that time has passed); resuming one
that had started returns it to ``running``. ``sent`` and ``cancelled`` are
final.

The journey definition is what the user composes: a primary step, ordered
fallbacks and an optional follow-up. Each step names an integration (by
name, with its kind so the content can be checked against the channel) and
carries content for that channel. Rules that need the audience or the
integrations' state live in :mod:`herald.domain.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from herald.domain.channels import (
    CHANNEL_OF_KIND,
    REQUIRED_FIELD,
    Channel,
    ContactField,
    IntegrationKind,
)
from herald.domain.content import (
    CHANNEL_OF_CONTENT,
    CONTENT_UNION_TAGS,
    Content,
    channel_of_content,
)
from herald.domain.journey_plan import DEFAULT_DELIVERY_WINDOWS
from herald.domain.modeling import FrozenModel, validate_model
from herald.errors import IllegalTransitionError


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class CampaignAction(StrEnum):
    SCHEDULE = "schedule"
    UNSCHEDULE = "unschedule"
    LAUNCH = "launch"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    COMPLETE = "complete"


_S, _A = CampaignStatus, CampaignAction

TRANSITIONS: Mapping[tuple[CampaignStatus, CampaignAction], CampaignStatus] = {
    (_S.DRAFT, _A.SCHEDULE): _S.SCHEDULED,
    (_S.DRAFT, _A.LAUNCH): _S.RUNNING,
    (_S.SCHEDULED, _A.SCHEDULE): _S.SCHEDULED,
    (_S.SCHEDULED, _A.UNSCHEDULE): _S.DRAFT,
    (_S.SCHEDULED, _A.LAUNCH): _S.RUNNING,
    (_S.SCHEDULED, _A.PAUSE): _S.PAUSED,
    (_S.SCHEDULED, _A.CANCEL): _S.CANCELLED,
    (_S.RUNNING, _A.PAUSE): _S.PAUSED,
    (_S.RUNNING, _A.CANCEL): _S.CANCELLED,
    (_S.RUNNING, _A.COMPLETE): _S.SENT,
    (_S.PAUSED, _A.RESUME): _S.RUNNING,
    (_S.PAUSED, _A.CANCEL): _S.CANCELLED,
    (_S.PAUSED, _A.COMPLETE): _S.SENT,
}
"""Every legal (status, action) pair and where it leads; anything else is refused.

``(paused, resume)`` leads to ``running`` for a campaign that had started;
:func:`next_status` sends one that had not back to ``scheduled``.
"""

FINAL_STATUSES = frozenset({CampaignStatus.SENT, CampaignStatus.CANCELLED})
EDITABLE_STATUSES = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})
"""A campaign's definition (journey, audience, agent, schedule) may change only before it starts."""


def ensure_editable(status: CampaignStatus) -> None:
    """Refuse (IllegalTransitionError) to change the definition of a started or final campaign."""
    if status not in EDITABLE_STATUSES:
        raise IllegalTransitionError(
            f"cannot edit a {status} campaign: only draft and scheduled campaigns can be edited",
            code="not_editable",
        )


def next_status(
    status: CampaignStatus, action: CampaignAction, *, has_started: bool = True
) -> CampaignStatus:
    """Where ``action`` takes a campaign in ``status``; IllegalTransitionError if nowhere.

    ``has_started`` matters only when resuming: False (paused before its
    scheduled start) resumes to ``scheduled``.
    """
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise IllegalTransitionError(_refusal(status, action), code="illegal_transition")
    if action is CampaignAction.RESUME and not has_started:
        return CampaignStatus.SCHEDULED
    return target


def allowed_actions(status: CampaignStatus) -> tuple[CampaignAction, ...]:
    """The actions a campaign in ``status`` accepts, in declaration order."""
    return tuple(action for action in CampaignAction if (status, action) in TRANSITIONS)


def _refusal(status: CampaignStatus, action: CampaignAction) -> str:
    allowed = allowed_actions(status)
    if not allowed:
        return f"cannot {action} a {status} campaign: {status} is final"
    return f"cannot {action} a {status} campaign; a {status} campaign can: " + ", ".join(allowed)


# --- the journey definition -------------------------------------------------

FOLLOW_UP_MIN_DAYS = 1
FOLLOW_UP_MAX_DAYS = 7
DELIVERY_WINDOW_MAX_MINUTES = 7 * 24 * 60

DEFAULT_DELIVERY_WINDOW_MINUTES: Mapping[Channel, int] = {
    channel: int(window.total_seconds() // 60)
    for channel, window in DEFAULT_DELIVERY_WINDOWS.items()
}
"""How long a step waits for a final delivery status before it counts as not delivered.

One source of truth: :data:`herald.domain.journey_plan.DEFAULT_DELIVERY_WINDOWS`,
where each default is explained. A shorter window reaches people sooner
through the fallback; a longer one avoids sending a fallback to someone who
did receive the first message.
"""


class IntegrationRef(FrozenModel):
    """A configured provider account, by its unique name, and its kind."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: IntegrationKind

    @property
    def channel(self) -> Channel:
        return CHANNEL_OF_KIND[self.kind]


class Step(FrozenModel):
    """One message of the journey: an integration and content for its channel."""

    integration: IntegrationRef
    content: Content
    delivery_window_minutes: Annotated[int | None, Field(ge=1, le=DELIVERY_WINDOW_MAX_MINUTES)] = (
        None
    )

    @model_validator(mode="after")
    def _content_fits_channel(self) -> Step:
        channel = self.integration.channel
        if channel_of_content(self.content) is not channel:
            fitting = ", ".join(kind for kind, of in CHANNEL_OF_CONTENT.items() if of is channel)
            raise ValueError(
                f"content type {self.content.type!r} cannot be sent through the "
                f"{self.integration.kind} integration {self.integration.name!r} "
                f"({channel} channel); use {fitting}"
            )
        return self

    @property
    def channel(self) -> Channel:
        return self.integration.channel

    @property
    def required_field(self) -> ContactField:
        """The contact data without which this step is skipped."""
        return REQUIRED_FIELD[self.channel]

    @property
    def delivery_window(self) -> timedelta:
        minutes = self.delivery_window_minutes
        if minutes is None:
            minutes = DEFAULT_DELIVERY_WINDOW_MINUTES[self.channel]
        return timedelta(minutes=minutes)


class FollowUp(Step):
    """The message sent once, ``delay_days`` after delivery, to a contact who did not reply.

    Any whole number of days is stored (a draft may hold anything); the
    checks refuse to launch outside 1 to 7 days.
    """

    delay_days: int

    @property
    def delay(self) -> timedelta:
        return timedelta(days=self.delay_days)


class StepRole(StrEnum):
    PRIMARY = "primary"
    FALLBACK = "fallback"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class StepSlot:
    """A step with its place in the journey, for messages and lookups.

    ``key`` is stable and compact (``primary``, ``fallback-1``, ``follow-up``),
    ``label`` is for people, ``path`` points into the spec.
    """

    role: StepRole
    position: int
    step: Step

    @property
    def key(self) -> str:
        if self.role is StepRole.FALLBACK:
            return f"fallback-{self.position}"
        return "follow-up" if self.role is StepRole.FOLLOW_UP else "primary"

    @property
    def label(self) -> str:
        if self.role is StepRole.FALLBACK:
            return f"fallback {self.position}"
        return "follow-up" if self.role is StepRole.FOLLOW_UP else "primary step"

    @property
    def path(self) -> str:
        if self.role is StepRole.FALLBACK:
            return f"journey.fallbacks[{self.position - 1}]"
        return "journey.follow_up" if self.role is StepRole.FOLLOW_UP else "journey.primary"


class JourneyDefinition(FrozenModel):
    """Primary step, fallbacks tried in order when not delivered, optional follow-up."""

    primary: Step
    fallbacks: tuple[Step, ...] = ()
    follow_up: FollowUp | None = None

    @property
    def chain(self) -> tuple[StepSlot, ...]:
        """The delivery chain: primary then fallbacks, in the order they are tried."""
        fallbacks = (
            StepSlot(StepRole.FALLBACK, index, step)
            for index, step in enumerate(self.fallbacks, start=1)
        )
        return (StepSlot(StepRole.PRIMARY, 0, self.primary), *fallbacks)

    @property
    def slots(self) -> tuple[StepSlot, ...]:
        """Every step: the chain, then the follow-up if any."""
        if self.follow_up is None:
            return self.chain
        return (*self.chain, StepSlot(StepRole.FOLLOW_UP, 0, self.follow_up))

    def integration_names(self) -> frozenset[str]:
        return frozenset(slot.step.integration.name for slot in self.slots)


def parse_journey(data: Any, *, root: str = "journey") -> JourneyDefinition:
    """A journey from plain data (JSON), errors naming ``journey.…`` paths."""
    return validate_model(JourneyDefinition, data, root=root, union_tags=CONTENT_UNION_TAGS)
