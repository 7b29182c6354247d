"""One batch of journeys in memory: events in, state changes and effects out.

The journey worker loads a batch, feeds each journey its events through the
pure state machine, and collects here everything that must be written back
(states, message intents and results, timeline entries, counter deltas) and
every message to send. Nothing here touches the database or the network;
:mod:`herald.engine.journeys` does the I/O around it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from herald.channels.base import OutboundMessage
from herald.domain.channels import Channel, ContactField
from herald.domain.journey import transition
from herald.domain.journey_events import (
    Command,
    Complete,
    JourneyEvent,
    RecordLate,
    RouteReply,
    Send,
    Skip,
    Suppressed,
)
from herald.domain.journey_state import JourneyState, StepStatus, step_changes
from herald.domain.preview import ContactData
from herald.domain.progress_counters import funnel_changes, steps_sent, timeline_counter
from herald.engine.keys import message_key
from herald.engine.outbound import preview_text, to_content
from herald.engine.runtime import CampaignRuntime


@dataclass
class ClaimedJourney:
    """A journey held by this worker for the length of a batch."""

    id: int
    campaign_id: int
    phone: str | None
    email: str | None
    fields: dict[str, str]
    state: JourneyState
    last_sent_at: datetime | None = None
    last_delivered_at: datetime | None = None

    @property
    def contact_fields(self) -> frozenset[ContactField]:
        present = set()
        if self.phone:
            present.add(ContactField.PHONE)
        if self.email:
            present.add(ContactField.EMAIL)
        return frozenset(present)

    def address_for(self, needed: ContactField) -> str | None:
        return self.phone if needed is ContactField.PHONE else self.email


@dataclass(frozen=True)
class PendingSend:
    journey_id: int
    campaign_id: int
    step: int
    attempt: int
    integration_id: int
    channel: str
    message: OutboundMessage


@dataclass(frozen=True)
class RoutedReply:
    journey_id: int
    campaign_id: int
    text: str


@dataclass(frozen=True)
class RecordedSend:
    """A journey's first attempt at a step, recorded as an intent (its ``messages`` row)."""

    journey_id: int
    campaign_id: int
    key: str  # the message's correlation key
    channel: Channel
    at: datetime
    campaign_tags: tuple[str, ...]


@dataclass
class BatchEffects:
    """Everything a batch changed, to be written in bulk."""

    now: datetime
    runtimes: dict[int, CampaignRuntime]
    suppressed: dict[Channel, set[str]] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[tuple[int, str]] = field(default_factory=Counter)
    new_messages: list[dict[str, Any]] = field(default_factory=list)
    retried_messages: list[dict[str, Any]] = field(default_factory=list)
    message_results: list[dict[str, Any]] = field(default_factory=list)
    sends: list[PendingSend] = field(default_factory=list)
    replies: list[RoutedReply] = field(default_factory=list)
    recorded_sends: list[RecordedSend] = field(default_factory=list)
    completed_campaigns: set[int] = field(default_factory=set)

    def apply(self, journey: ClaimedJourney, event: JourneyEvent) -> None:
        runtime = self.runtimes[journey.campaign_id]
        result = transition(runtime.plan, journey.contact_fields, journey.state, event, self.now)
        for step, old, new in step_changes(journey.state, result.state):
            self._count_step(journey, step, old, new)
        for name in funnel_changes(len(runtime.plan.chain), journey.state, result.state):
            self.counters[(journey.campaign_id, name)] += 1
        for step in steps_sent(journey.state, result.state):
            sent_on = timeline_counter(self.now, runtime.step(step).channel.value)
            self.counters[(journey.campaign_id, sent_on)] += 1
        if result.state.delivered_at != journey.state.delivered_at:
            journey.last_delivered_at = result.state.delivered_at
        journey.state = result.state
        for command in result.commands:
            self._execute(journey, command)

    def record(self, journey: ClaimedJourney, kind: str, **values: Any) -> None:
        """Add a timeline entry for ``journey``."""
        self.log.append(
            {
                "journey_id": journey.id,
                "campaign_id": journey.campaign_id,
                "at": self.now,
                "kind": kind,
                "step": values.get("step"),
                "channel": values.get("channel"),
                "provider_message_id": values.get("provider_message_id"),
                "error_code": values.get("error_code"),
                "detail": values.get("detail"),
            }
        )

    def take_sends(self) -> list[PendingSend]:
        sends, self.sends = self.sends, []
        return sends

    def _count_step(
        self, journey: ClaimedJourney, step: int, old: StepStatus, new: StepStatus
    ) -> None:
        if old is not StepStatus.NOT_STARTED:
            self.counters[(journey.campaign_id, f"step:{step}:{old.value}")] -= 1
        self.counters[(journey.campaign_id, f"step:{step}:{new.value}")] += 1

    def _execute(self, journey: ClaimedJourney, command: Command) -> None:
        match command:
            case Send():
                self._send(journey, command)
            case Skip():
                self.record(journey, "skipped", step=command.step, detail=command.reason.value)
            case RouteReply():
                self.replies.append(RoutedReply(journey.id, journey.campaign_id, command.text))
                self.counters[(journey.campaign_id, "replies")] += 1
            case Complete():
                self.counters[(journey.campaign_id, f"outcome:{command.outcome.value}")] += 1
                self.completed_campaigns.add(journey.campaign_id)
                self.record(journey, "completed", detail=command.outcome.value)
            case RecordLate():
                name = type(command.event).__name__
                self.record(journey, "late", detail=f"{name}: {command.reason.value}")
            case _:
                pass  # timers live in the state itself (state.timer is due_at)

    def _send(self, journey: ClaimedJourney, command: Send) -> None:
        step = self.runtimes[journey.campaign_id].step(command.step)
        address = journey.address_for(step.slot.step.required_field)
        if address is None or _canonical(address) in self.suppressed.get(step.channel, set()):
            # The machine skips steps the contact has no data for, so only
            # suppression lands here: the address asked not to be contacted.
            self.apply(journey, Suppressed(command.step, command.attempt))
            self.record(journey, "suppressed", step=command.step, channel=step.channel.value)
            return
        preview = step.compiled.render(ContactData(journey.fields, journey.phone, journey.email))
        key = message_key(journey.id, command.step)
        row = {
            "key": key,
            "attempt": command.attempt,
            "status": "pending",
            "created_at": self.now,
        }
        if command.attempt == 1:
            row |= {
                "journey_id": journey.id,
                "campaign_id": journey.campaign_id,
                "step": command.step,
                "channel": step.channel.value,
                "integration_id": step.integration_id,
                "to_address": address,
                "preview": preview_text(preview.message),
            }
            self.new_messages.append(row)
            runtime = self.runtimes[journey.campaign_id]
            self.recorded_sends.append(
                RecordedSend(
                    journey_id=journey.id,
                    campaign_id=journey.campaign_id,
                    key=key,
                    channel=step.channel,
                    at=self.now,
                    campaign_tags=runtime.tags,
                )
            )
        else:
            self.retried_messages.append(row)
        self.sends.append(
            PendingSend(
                journey_id=journey.id,
                campaign_id=journey.campaign_id,
                step=command.step,
                attempt=command.attempt,
                integration_id=step.integration_id,
                channel=step.channel.value,
                message=OutboundMessage(key, address, to_content(preview.message)),
            )
        )


def _canonical(address: str) -> str:
    """The form the suppression list stores: E.164 as is, email lower-cased."""
    return address.lower() if "@" in address else address
