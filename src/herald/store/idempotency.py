"""Idempotency keys: the first response to a POST, kept per key and caller.

A row is claimed *before* the request runs (``status_code`` null: in
progress) and completed with the response afterwards. The unique
(principal, key) constraint is what makes concurrent duplicates safe: of two
requests racing with one key, exactly one inserts the claim; the other finds
it in progress and is refused instead of running a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.store.base import Base, UtcDateTime


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None while in progress
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    locked_until: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # run the request, then complete or release the claim
    IN_PROGRESS = "in_progress"  # another request with this key is running
    MISMATCH = "mismatch"  # the key was used for a different request
    REPLAY = "replay"  # the first response is stored: return it


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    response: StoredResponse | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class NewClaim:
    principal: str
    key: str
    fingerprint: str
    method: str
    path: str


def claim_key(
    session: Session, claim: NewClaim, *, now: datetime, lock: timedelta, ttl: timedelta
) -> Claim:
    """Claim ``claim.key`` for ``claim.principal``; commits.

    An expired row, or an in-progress one whose lock ran out (its request
    died), is taken over; anything else decides the outcome.
    """
    values: dict[str, Any] = {
        "principal": claim.principal,
        "key": claim.key,
        "fingerprint": claim.fingerprint,
        "method": claim.method,
        "path": claim.path,
        "created_at": now,
        "locked_until": now + lock,
        "expires_at": now + ttl,
    }
    # Housekeeping on the way: the caller's own expired keys (the unique index serves it).
    session.execute(
        delete(IdempotencyKeyRow).where(
            IdempotencyKeyRow.principal == claim.principal, IdempotencyKeyRow.expires_at <= now
        )
    )
    if _insert_new(session, values):
        session.commit()
        return Claim(ClaimOutcome.CLAIMED)
    row = session.scalars(
        select(IdempotencyKeyRow)
        .where(IdempotencyKeyRow.principal == claim.principal, IdempotencyKeyRow.key == claim.key)
        .with_for_update()
    ).one()
    outcome = _judge(row, claim, now)
    if outcome is ClaimOutcome.CLAIMED:
        for name, value in values.items():
            setattr(row, name, value)
        row.status_code, row.response_headers, row.response_body = None, None, None
    decided = Claim(outcome, _stored(row), row.locked_until)
    session.commit()
    return decided


def _judge(row: IdempotencyKeyRow, claim: NewClaim, now: datetime) -> ClaimOutcome:
    if row.expires_at <= now:
        return ClaimOutcome.CLAIMED
    if row.fingerprint != claim.fingerprint:
        return ClaimOutcome.MISMATCH
    if row.status_code is not None:
        return ClaimOutcome.REPLAY
    return ClaimOutcome.CLAIMED if row.locked_until <= now else ClaimOutcome.IN_PROGRESS


def _stored(row: IdempotencyKeyRow) -> StoredResponse | None:
    if row.status_code is None:
        return None
    return StoredResponse(
        row.status_code, dict(row.response_headers or {}), row.response_body or b""
    )


def _insert_new(session: Session, values: dict[str, Any]) -> bool:
    """Insert unless the (principal, key) exists; True when this call inserted."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(IdempotencyKeyRow)
        .values(values)
        .on_conflict_do_nothing()
        .returning(IdempotencyKeyRow.id)
    )
    # RETURNING, not rowcount: a skipped conflict returns no row on every driver.
    return session.execute(statement).scalar_one_or_none() is not None


def complete_key(session: Session, principal: str, key: str, response: StoredResponse) -> None:
    """Store the first response; commits."""
    session.execute(
        update(IdempotencyKeyRow)
        .where(IdempotencyKeyRow.principal == principal, IdempotencyKeyRow.key == key)
        .values(
            status_code=response.status_code,
            response_headers=response.headers,
            response_body=response.body,
        )
    )
    session.commit()


def release_key(session: Session, principal: str, key: str) -> None:
    """Forget an in-progress claim whose request failed, so a retry runs it; commits."""
    session.execute(
        delete(IdempotencyKeyRow).where(
            IdempotencyKeyRow.principal == principal,
            IdempotencyKeyRow.key == key,
            IdempotencyKeyRow.status_code.is_(None),
        )
    )
    session.commit()
