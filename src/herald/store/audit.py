"""The audit log: an append-only table of who did what, newest read first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.store.base import Base, UtcDateTime


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    # The email or key name at the time, so entries stay readable after the
    # user or key is gone.
    actor_label: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_kind: str | None = None
    actor_id: int | None = None
    target_type: str | None = None
    target_id: str | None = None


def list_entries(
    session: Session, where: AuditFilter, *, before_id: int | None, limit: int
) -> list[AuditRow]:
    """Newest first; ``before_id`` continues after the last entry of the previous page."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditRow.id < before_id)
    for column, value in (
        (AuditRow.action, where.action),
        (AuditRow.actor_kind, where.actor_kind),
        (AuditRow.actor_id, where.actor_id),
        (AuditRow.target_type, where.target_type),
        (AuditRow.target_id, where.target_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return list(session.scalars(query))
