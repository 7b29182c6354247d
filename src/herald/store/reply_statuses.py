"""Delivery statuses of replies, as the event router hands them over.

Statuses that belong to no journey may belong to a reply sent from a
conversation: found by the correlation key the provider echoes, else by the
provider's message id. They only move a reply forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from herald.domain.agents import Direction
from herald.domain.conversations import WEBHOOK_FROM, ReplyStatus
from herald.store.conversation_work import MESSAGES, ReplyChange, change_replies


@dataclass(frozen=True)
class ReplyStatusUpdate:
    """A provider's delivery status that may belong to a reply."""

    provider_message_id: str
    status: str  # sent, delivered, read or failed
    correlation_key: str | None = None
    error_code: str | None = None
    error_detail: str | None = None


def apply_reply_statuses(
    session: Session, updates: Sequence[ReplyStatusUpdate], now: datetime
) -> set[str]:
    """Move replies forward by their webhooks; return the provider ids that were replies.

    A reply is found by the correlation key the provider echoes, else by its
    provider message id. Statuses only move forward (sent < delivered < read;
    failed only before delivery), so duplicates and stragglers change nothing.
    """
    if not updates:
        return set()
    keys = {u.correlation_key for u in updates if u.correlation_key}
    ids = {u.provider_message_id for u in updates}
    rows = session.execute(
        select(MESSAGES.c.key, MESSAGES.c.provider_message_id)
        .where(MESSAGES.c.direction == Direction.OUTBOUND.value)
        .where(or_(MESSAGES.c.key.in_(keys), MESSAGES.c.provider_message_id.in_(ids)))
    ).all()
    by_key = {row.key: row.key for row in rows}
    by_provider_id = {row.provider_message_id: row.key for row in rows if row.provider_message_id}
    matched: set[str] = set()
    changes = []
    for item in updates:
        key = by_key.get(item.correlation_key or "") or by_provider_id.get(item.provider_message_id)
        if key is None or item.status not in WEBHOOK_FROM:
            continue
        matched.add(item.provider_message_id)
        changes.append(
            ReplyChange(
                key=key,
                status=ReplyStatus(item.status),
                from_statuses=tuple(ReplyStatus(s) for s in WEBHOOK_FROM[item.status]),
                provider_message_id=item.provider_message_id,
                error_code=item.error_code,
                error_detail=item.error_detail,
            )
        )
    change_replies(session, changes, now)
    return matched
