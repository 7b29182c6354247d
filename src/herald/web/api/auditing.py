"""Audit entries for changes made through the API: who changed or launched what.

The services commit their own changes, so the entry is written right after,
in its own short transaction; details name what changed, never a value of a
secret (the audit store redacts secret-looking keys as a second guard).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from herald.domain.audit import Actor, AuditTarget
from herald.services.audit import record_audit
from herald.services.container import Herald


def audit(
    herald: Herald,
    db: Session,
    actor: Actor,
    action: str,
    target: tuple[str, int | str] | None,
    details: dict[str, Any] | None = None,
) -> None:
    where = None if target is None else AuditTarget.of(*target)
    record_audit(db, actor, action, where, details, clock=herald.clock)
    db.commit()
