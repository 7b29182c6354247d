"""Message logs: every message a campaign sent, filterable, each error explained.

One entry per message row (one per contact and step; retries reuse it), in
the order they were created, a page at a time with a keyset cursor (the
last message id). Filters: channel, status and provider error code. Every
error code comes with the catalog's explanation (title, meaning, what to
do, and for codes like WhatsApp 131026 the possible reasons), so nobody has
to look codes up elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from herald.domain.channels import Channel
from herald.domain.error_catalog import ErrorEntry
from herald.errors import NotFoundError, ValidationError
from herald.services.campaign_activity import (
    ContactActivity,
    TimelineEntry,
    journey_detail,
    step_label,
    step_layout,
)
from herald.services.campaign_monitor import ErrorCount, explain_channel_error, snapshot
from herald.services.campaign_views import CampaignView
from herald.store.campaign_activity import (
    MessageFilter,
    MessageRecord,
    find_message,
    page_messages,
)

CHANNELS = tuple(channel.value for channel in Channel)
# Every status a message row takes, in the order a message goes through them.
MESSAGE_STATUSES = (
    "pending",
    "retry_wait",
    "accepted",
    "unknown",
    "sent",
    "delivered",
    "read",
    "rejected",
    "failed",
    "expired",
)
MAX_CODE_LENGTH = 64


@dataclass(frozen=True)
class LogEntry:
    message: MessageRecord
    step: str
    explanation: ErrorEntry | None


@dataclass(frozen=True)
class LogPage:
    campaign: CampaignView
    items: tuple[LogEntry, ...]
    next_after: int | None  # pass as ``after`` for the next page; None on the last
    error_codes: tuple[ErrorCount, ...]  # the codes this campaign met, for the filter


def list_messages(
    session: Session,
    campaign_id: int,
    *,
    channel: str | None = None,
    status: str | None = None,
    error_code: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> LogPage:
    where = MessageFilter(
        channel=_one_of(channel, CHANNELS, "channel"),
        status=_one_of(status, MESSAGE_STATUSES, "status"),
        error_code=_code(error_code),
    )
    current = snapshot(session, campaign_id)
    layout = step_layout(current.campaign)
    records = page_messages(session, campaign_id, where, after_id=after, limit=limit + 1)
    page, more = records[:limit], len(records) > limit
    items = tuple(
        LogEntry(record, step_label(layout, record.step) or "", _explain(record)) for record in page
    )
    return LogPage(current.campaign, items, page[-1].id if more else None, current.errors)


@dataclass(frozen=True)
class LogDetail:
    campaign: CampaignView
    entry: LogEntry
    contact: ContactActivity
    events: tuple[TimelineEntry, ...]  # the contact's timeline entries for this message's step


def get_message(session: Session, campaign_id: int, message_id: int) -> LogDetail:
    """One message with its contact and what happened to it; NotFoundError if not this
    campaign's."""
    record = find_message(session, campaign_id, message_id)
    if record is None:
        raise NotFoundError(
            f"campaign {campaign_id} has no message {message_id}", field="message_id"
        )
    journey = journey_detail(session, campaign_id, record.journey_id)
    label = step_label(step_layout(journey.campaign), record.step) or ""
    events = tuple(event for event in journey.timeline if event.step == label)
    entry = LogEntry(record, label, _explain(record))
    return LogDetail(journey.campaign, entry, journey.contact, events)


def _explain(record: MessageRecord) -> ErrorEntry | None:
    if not record.error_code:
        return None
    return explain_channel_error(record.channel, record.error_code)


def _one_of(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    if text not in allowed:
        raise ValidationError(
            f"{field} {value[:40]!r} is not one of {', '.join(allowed)}", field=field
        )
    return text


def _code(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > MAX_CODE_LENGTH or not text.isprintable():
        raise ValidationError(
            f"error code must be printable text of at most {MAX_CODE_LENGTH} characters",
            field="code",
        )
    return text
