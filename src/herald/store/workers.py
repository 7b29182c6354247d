"""Worker processes announce themselves here, so readiness checks and the UI
can tell whether anything is running."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.store.base import Base, UtcDateTime


class WorkerRow(Base):
    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


def beat(session: Session, worker: WorkerRow, now: datetime) -> None:
    existing = session.get(WorkerRow, worker.id)
    if existing is None:
        worker.heartbeat_at = now
        session.add(worker)
    else:
        existing.heartbeat_at = now


def remove(session: Session, worker_id: str) -> None:
    session.execute(delete(WorkerRow).where(WorkerRow.id == worker_id))


def live_workers(session: Session, now: datetime, stale_after: timedelta) -> list[WorkerRow]:
    query = select(WorkerRow).where(WorkerRow.heartbeat_at >= now - stale_after)
    return list(session.scalars(query.order_by(WorkerRow.started_at)))
