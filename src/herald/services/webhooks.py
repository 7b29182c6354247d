"""Recording provider events as they arrive: verified, parsed, stored once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from herald.channels.base import ChannelEvent
from herald.channels.codec import event_kind, event_to_json
from herald.store.inbox import insert_new_events


@dataclass(frozen=True)
class IngestResult:
    new: int
    duplicates: int


def record_events(session: Session, events: Sequence[ChannelEvent], now: datetime) -> IngestResult:
    """Store events not seen before and commit; duplicates are counted, not stored.

    Events repeated within one payload are collapsed first, so a provider
    batch that mentions the same status twice is still one event.
    """
    inserted = insert_new_events(session, event_rows(events, now))
    session.commit()
    return IngestResult(new=len(inserted), duplicates=len(events) - len(inserted))


def event_rows(events: Sequence[ChannelEvent], now: datetime) -> list[dict[str, object]]:
    """Inbox rows for ``events``, one per distinct dedupe key."""
    unique = {event.dedupe_key: event for event in events}
    return [
        {
            "dedupe_key": key,
            "provider": event.provider.value,
            "kind": event_kind(event),
            "provider_message_id": event.provider_message_id,
            "correlation_key": event.correlation_key,
            "payload": event_to_json(event),
            "received_at": now,
        }
        for key, event in unique.items()
    ]
