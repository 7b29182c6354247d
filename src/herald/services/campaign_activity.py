"""Subscriber activity: each contact of a campaign and their journey, step by step.

Contacts come a page at a time in audience row order, with a keyset cursor
(the last contact's id), so a campaign of a million contacts pages as fast
as one of ten. Search looks for a substring of the phone or the email; the
outcome filter also knows ``in_progress`` (no outcome yet).

A journey's detail merges what the journey engine recorded: one line per
step of the plan (its status, the message with provider id and error, the
error explained by the catalog) and the timeline of events, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from herald.domain.channels import CHANNEL_OF_KIND, IntegrationKind
from herald.domain.error_catalog import ErrorEntry
from herald.domain.journey_state import Outcome
from herald.errors import NotFoundError, ValidationError
from herald.services.campaign_monitor import explain_channel_error
from herald.services.campaign_views import CampaignView, get_row, view_of
from herald.store.campaign_activity import (
    IN_PROGRESS,
    JourneyFilter,
    JourneyRecord,
    MessageRecord,
    find_journey,
    journey_log,
    journey_messages,
    page_journeys,
)

OUTCOME_FILTERS = (*(outcome.value for outcome in Outcome), IN_PROGRESS)
MAX_SEARCH_LENGTH = 100
MAX_TIMELINE_ENTRIES = 500
NAME_FIELDS = ("name", "full_name", "first_name", "firstname", "contact_name")

# How each timeline entry kind reads to a person.
EVENT_LABELS = {
    "launched": "Journey started",
    "accepted": "Accepted by the provider",
    "retry": "Will retry",
    "integration_fault": "Integration fault, will retry",
    "rejected": "Rejected by the provider",
    "unknown": "Sent, answer lost (never resent)",
    "skipped": "Step skipped",
    "suppressed": "Not sent: address suppressed",
    "held": "Held while paused",
    "window_expired": "Delivery window ended",
    "sent": "Sent by the provider",
    "delivered": "Delivered",
    "read": "Read",
    "failed": "Delivery failed",
    "reply": "Replied",
    "opt_out": "Opted out",
    "late": "Late status recorded",
    "completed": "Journey finished",
}


@dataclass(frozen=True)
class StepInfo:
    index: int
    label: str  # "Primary", "Fallback 1", "Follow-up"
    integration: str | None
    channel: str | None


def step_layout(campaign: CampaignView) -> tuple[StepInfo, ...]:
    """The campaign's steps by index, read from its stored journey definition."""
    journey = campaign.journey or {}
    slots: list[tuple[str, Any]] = [("Primary", journey.get("primary"))]
    fallbacks = journey.get("fallbacks")
    for number, fallback in enumerate(fallbacks if isinstance(fallbacks, list) else [], 1):
        slots.append((f"Fallback {number}", fallback))
    if journey.get("follow_up"):
        slots.append(("Follow-up", journey.get("follow_up")))
    return tuple(
        StepInfo(index, label, *_integration_of(step)) for index, (label, step) in enumerate(slots)
    )


def _integration_of(step: Any) -> tuple[str | None, str | None]:
    integration = step.get("integration") if isinstance(step, dict) else None
    if not isinstance(integration, dict):
        return None, None
    try:
        channel: str | None = CHANNEL_OF_KIND[IntegrationKind(str(integration.get("kind")))].value
    except ValueError:
        channel = None
    name = integration.get("name")
    return (name if isinstance(name, str) else None), channel


def step_label(layout: tuple[StepInfo, ...], index: int | None) -> str | None:
    if index is None:
        return None
    return layout[index].label if 0 <= index < len(layout) else f"Step {index + 1}"


@dataclass(frozen=True)
class ContactActivity:
    journey_id: int
    contact_id: int
    row_number: int | None
    name: str | None
    phone: str | None
    email: str | None
    phase: str
    outcome: str | None
    steps: tuple[tuple[str, str], ...]  # (step label, status) of each step tried so far
    updated_at: datetime


@dataclass(frozen=True)
class ContactPage:
    campaign: CampaignView
    items: tuple[ContactActivity, ...]
    next_after: int | None  # pass as ``after`` for the next page; None on the last


def list_contacts(
    session: Session,
    campaign_id: int,
    *,
    search: str | None = None,
    outcome: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> ContactPage:
    campaign = view_of(get_row(session, campaign_id))
    where = JourneyFilter(search=_search(search), outcome=_outcome(outcome))
    records = page_journeys(session, campaign_id, where, after_contact_id=after, limit=limit + 1)
    page, more = records[:limit], len(records) > limit
    layout = step_layout(campaign)
    items = tuple(_activity(record, layout) for record in page)
    return ContactPage(campaign, items, page[-1].contact_id if more else None)


def _activity(record: JourneyRecord, layout: tuple[StepInfo, ...]) -> ContactActivity:
    statuses = record.state.get("steps")
    steps = tuple(
        (step_label(layout, index) or "", str(status))
        for index, status in enumerate(statuses if isinstance(statuses, list) else [])
        if status != "not_started"
    )
    return ContactActivity(
        journey_id=record.id,
        contact_id=record.contact_id,
        row_number=record.row_number,
        name=display_name(record.fields),
        phone=record.phone,
        email=record.email,
        phase=record.phase,
        outcome=record.outcome,
        steps=steps,
        updated_at=record.updated_at,
    )


def display_name(fields: dict[str, str]) -> str | None:
    """The contact's name when the audience has a column that looks like one."""
    lowered = {key.lower(): value for key, value in fields.items()}
    for key in NAME_FIELDS:
        value = lowered.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _search(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > MAX_SEARCH_LENGTH:
        raise ValidationError(
            f"search is limited to {MAX_SEARCH_LENGTH} characters", field="q", code="invalid"
        )
    return text.strip()


def _outcome(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if value not in OUTCOME_FILTERS:
        raise ValidationError(
            f"outcome {value[:40]!r} is not one of {', '.join(OUTCOME_FILTERS)}", field="outcome"
        )
    return value


@dataclass(frozen=True)
class StepDetail:
    info: StepInfo
    status: str
    message: MessageRecord | None
    explanation: ErrorEntry | None


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    step: str | None
    channel: str | None
    provider_message_id: str | None
    error_code: str | None
    detail: str | None
    explanation: ErrorEntry | None


@dataclass(frozen=True)
class JourneyDetail:
    campaign: CampaignView
    contact: ContactActivity
    fields: dict[str, str]
    steps: tuple[StepDetail, ...]
    timeline: tuple[TimelineEntry, ...]
    is_timeline_cut: bool  # more entries exist than are shown


def journey_detail(session: Session, campaign_id: int, journey_id: int) -> JourneyDetail:
    """One contact's journey; NotFoundError when it is not a journey of this campaign."""
    campaign = view_of(get_row(session, campaign_id))
    record = find_journey(session, campaign_id, journey_id)
    if record is None:
        raise NotFoundError(
            f"campaign {campaign_id} has no contact journey {journey_id}", field="journey_id"
        )
    layout = step_layout(campaign)
    messages = {message.step: message for message in journey_messages(session, journey_id)}
    log = journey_log(session, journey_id, limit=MAX_TIMELINE_ENTRIES + 1)
    activity = _activity(record, layout)
    statuses = dict(enumerate(record.state.get("steps") or []))
    steps = tuple(
        StepDetail(
            info=info,
            status=str(statuses.get(info.index, "not_started")),
            message=messages.get(info.index),
            explanation=_explain(messages.get(info.index)),
        )
        for info in layout
    )
    timeline = tuple(
        TimelineEntry(
            at=entry.at,
            kind=entry.kind,
            label=EVENT_LABELS.get(entry.kind, entry.kind.replace("_", " ").capitalize()),
            step=step_label(layout, entry.step),
            channel=entry.channel or _channel_of(layout, entry.step),
            provider_message_id=entry.provider_message_id,
            error_code=entry.error_code,
            detail=entry.detail,
            explanation=_explain_code(
                entry.channel or _channel_of(layout, entry.step), entry.error_code
            ),
        )
        for entry in log[:MAX_TIMELINE_ENTRIES]
    )
    return JourneyDetail(
        campaign, activity, record.fields, steps, timeline, len(log) > MAX_TIMELINE_ENTRIES
    )


def _channel_of(layout: tuple[StepInfo, ...], index: int | None) -> str | None:
    if index is None or not 0 <= index < len(layout):
        return None
    return layout[index].channel


def _explain(message: MessageRecord | None) -> ErrorEntry | None:
    if message is None:
        return None
    return _explain_code(message.channel, message.error_code)


def _explain_code(channel: str | None, code: str | None) -> ErrorEntry | None:
    if channel is None or not code:
        return None
    return explain_channel_error(channel, code)
