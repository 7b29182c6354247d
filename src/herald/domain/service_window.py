"""WhatsApp's 24-hour customer service window.

A message from the person opens the window for 24 hours; each new message
from them restarts it; our own sends never extend it. Inside the window any
message type may be sent; outside it (or if the person never wrote) only
approved templates are delivered, and free-form text is refused by Meta with
error 131047. Herald keeps ``last_inbound_at`` per (business number, person)
and decides here, before sending, instead of wasting a call.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

SERVICE_WINDOW = timedelta(hours=24)


class WhatsAppMessageMode(StrEnum):
    TEMPLATE = "template"
    FREE_FORM = "free_form"


def is_window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether free-form messages may be sent at ``now``.

    A ``last_inbound_at`` in the future (clock skew between a webhook's
    timestamp and ours) counts as just now: the person did write.
    """
    _require_aware(now, "now")
    if last_inbound_at is None:
        return False
    _require_aware(last_inbound_at, "last_inbound_at")
    return now - last_inbound_at < SERVICE_WINDOW


def window_closes_at(last_inbound_at: datetime | None) -> datetime | None:
    """When the window closes (None: it was never opened)."""
    if last_inbound_at is None:
        return None
    _require_aware(last_inbound_at, "last_inbound_at")
    return last_inbound_at + SERVICE_WINDOW


def choose_message_mode(
    last_inbound_at: datetime | None, now: datetime, *, has_template: bool
) -> WhatsAppMessageMode | None:
    """Free-form inside the window; else a template if one is configured; else None.

    None means the message cannot go out on WhatsApp now: the step should be
    skipped or fall back to another channel.
    """
    if is_window_open(last_inbound_at, now):
        return WhatsAppMessageMode.FREE_FORM
    return WhatsAppMessageMode.TEMPLATE if has_template else None


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
