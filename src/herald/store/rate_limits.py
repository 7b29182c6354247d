"""Token buckets in the database, so a rate limit holds across all workers.

Each integration has one row: the tokens left and when they were counted.
A worker reserves tokens for a whole batch in one short transaction
(row-locked on PostgreSQL; SQLite serialises writers anyway), so the cost is
one round trip per batch, not per message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, ForeignKey, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.store.base import Base, UtcDateTime

# Up to one second of traffic may be sent at once after an idle period.
BURST_SECONDS = 1.0


class RateBucketRow(Base):
    __tablename__ = "rate_buckets"

    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    tokens: Mapped[float] = mapped_column(Float)
    counted_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True)
class Reservation:
    granted: int
    wait_seconds: float  # until the next token, when fewer than asked were granted


def reserve_tokens(
    session: Session, integration_id: int, wanted: int, rate_per_second: float, now: datetime
) -> Reservation:
    """Take up to ``wanted`` tokens now; the caller commits."""
    burst = max(1.0, rate_per_second * BURST_SECONDS)
    _ensure_bucket(session, integration_id, burst, now)
    # FOR UPDATE: concurrent workers queue here, one reservation at a time.
    row = session.scalars(
        select(RateBucketRow)
        .where(RateBucketRow.integration_id == integration_id)
        .with_for_update()
    ).one()
    elapsed = max(0.0, (now - row.counted_at).total_seconds())
    available = min(burst, row.tokens + elapsed * rate_per_second)
    granted = min(wanted, math.floor(available))
    row.tokens = available - granted
    row.counted_at = max(now, row.counted_at)
    missing = 1.0 - row.tokens if granted < wanted else 0.0
    return Reservation(granted, max(0.0, missing) / rate_per_second)


def _ensure_bucket(session: Session, integration_id: int, burst: float, now: datetime) -> None:
    """Create the bucket full; a concurrent creator wins silently."""
    values = {"integration_id": integration_id, "tokens": burst, "counted_at": now}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(RateBucketRow).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(RateBucketRow).values(values).on_conflict_do_nothing())
