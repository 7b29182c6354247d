"""The inbox of provider events: every status and inbound message, once.

Webhook handlers only verify, parse and insert here, then answer the
provider; the engine applies events to journeys afterwards. ``dedupe_key`` is
unique, so a webhook delivered twice (providers retry for days) inserts
nothing the second time, whatever process receives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.store.base import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class ProviderEventRow(Base):
    __tablename__ = "provider_events"
    __table_args__ = (
        Index("ix_provider_events_unrouted", "routed_at", "id"),
        Index("ix_provider_events_journey", "journey_id", "processed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # "status" or "inbound"
    provider_message_id: Mapped[str] = mapped_column(String(255), index=True)
    correlation_key: Mapped[str | None] = mapped_column(String(255), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Set by the router: which journey (and step) the event belongs to, if any.
    routed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    journey_id: Mapped[int | None] = mapped_column(BigId)
    step: Mapped[int | None] = mapped_column(Integer)
    route: Mapped[str | None] = mapped_column(String(32))  # how it was matched, or why not
    # Set by the journey worker once the event has been applied.
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


def insert_new_events(session: Session, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert rows whose ``dedupe_key`` is new; return the dedupe keys inserted."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = pg_insert(ProviderEventRow).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
    elif dialect == "sqlite":
        statement = sqlite_insert(ProviderEventRow).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
    else:  # pragma: no cover - Herald supports the two dialects above
        statement = insert(ProviderEventRow)
    result = session.execute(statement.values(list(rows)).returning(ProviderEventRow.dedupe_key))
    return [key for (key,) in result]
