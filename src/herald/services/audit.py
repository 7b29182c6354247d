"""Recording and reading the audit log.

Any service or route that changes something worth answering for later
("who launched this?") calls :func:`record_audit` in the same transaction as
the change, so an entry exists exactly when the change does::

    record_audit(session, actor, "campaign.launched",
                 AuditTarget.of("campaign", campaign.id), {"contacts": 1200},
                 clock=clock)
    session.commit()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.audit import (
    LABEL_MAX_LENGTH,
    Actor,
    ActorKind,
    AuditTarget,
    check_action,
    redact_details,
)
from herald.errors import ValidationError
from herald.store.audit import AuditFilter, AuditRow, list_entries

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    actor: Actor
    action: str
    target: AuditTarget | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    items: tuple[AuditEntry, ...]
    next_cursor: int | None  # pass back as ``before_id``; None on the last page


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    target: AuditTarget | None = None,
    details: dict[str, Any] | None = None,
    *,
    clock: Clock,
) -> None:
    """Add an entry to the caller's transaction; the caller commits.

    Secret-looking keys in ``details`` (password, token, secret...) are
    redacted before storing, but callers should not pass secrets at all.
    """
    session.add(
        AuditRow(
            occurred_at=clock.now(),
            actor_kind=actor.kind.value,
            actor_id=actor.id,
            actor_label=actor.label[:LABEL_MAX_LENGTH] if actor.label else None,
            action=check_action(action),
            target_type=target.type if target else None,
            target_id=target.id if target else None,
            client_ip=actor.client_ip,
            details=redact_details(details),
        )
    )


def list_audit(
    session: Session,
    where: AuditFilter | None = None,
    *,
    before_id: int | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> AuditPage:
    """Entries newest first, one page at a time."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE_SIZE}", field="limit")
    rows = list_entries(session, where or AuditFilter(), before_id=before_id, limit=limit + 1)
    items = tuple(_entry(row) for row in rows[:limit])
    return AuditPage(items, items[-1].id if len(rows) > limit else None)


def _entry(row: AuditRow) -> AuditEntry:
    target = None
    if row.target_type is not None:
        target = AuditTarget(row.target_type, row.target_id or "")
    return AuditEntry(
        id=row.id,
        occurred_at=row.occurred_at,
        actor=Actor(ActorKind(row.actor_kind), row.actor_id, row.actor_label, row.client_ip),
        action=row.action,
        target=target,
        details=dict(row.details or {}),
    )
