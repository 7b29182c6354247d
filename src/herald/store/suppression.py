"""The suppression list table and its queries.

One row per (address, scope). Rows are only ever inserted by opt-outs and
imports and removed by an explicit opt-in or operator action: nothing that
imports audiences touches this table, so re-importing contacts can never
clear an opt-out.

Queries take a ``Session`` or a ``Connection`` so the engine can check a whole
batch of contacts inside its own transaction (see :func:`find_suppressed`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    CheckConstraint,
    Connection,
    CursorResult,
    Integer,
    Row,
    String,
    Table,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.domain.channels import Channel
from herald.domain.suppression import SuppressionReason, SuppressionScope, scopes_checked
from herald.store.base import Base, UtcDateTime

ADDRESS_MAX_LENGTH = 320  # RFC 5321 path limit; E.164 phones are far shorter
DETAIL_MAX_LENGTH = 200
# Addresses per IN (...) list: well under every backend's parameter limit and
# small enough for the planner to use the (address, scope) index.
LOOKUP_CHUNK = 500

Executor = Session | Connection


def dialect_name(executor: Executor) -> str:
    """``"sqlite"`` or ``"postgresql"``: picks the dialect's ON CONFLICT construct."""
    if isinstance(executor, Connection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


def _values_check(column: str, values: Iterable[str]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class SuppressionRow(Base):
    __tablename__ = "suppressions"
    __table_args__ = (
        UniqueConstraint("address", "scope"),
        CheckConstraint(_values_check("scope", SuppressionScope), name="scope"),
        CheckConstraint(_values_check("channel", Channel), name="channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX_LENGTH))
    scope: Mapped[str] = mapped_column(String(16))
    # No CHECK on reason: new reasons must not need a migration; the enum in
    # herald.domain.suppression validates what is written.
    reason: Mapped[str] = mapped_column(String(32))
    # Where the opt-out happened; the scope says where it applies.
    channel: Mapped[str | None] = mapped_column(String(16))
    # No foreign key: the entry outlives the campaign that caused it.
    source_campaign_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(DETAIL_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


TABLE = cast(Table, SuppressionRow.__table__)


@dataclass(frozen=True)
class NewSuppression:
    address: str
    scope: SuppressionScope
    reason: SuppressionReason
    created_at: datetime
    channel: Channel | None = None
    source_campaign_id: int | None = None
    detail: str | None = None

    def as_values(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "scope": self.scope.value,
            "reason": self.reason.value,
            "channel": self.channel.value if self.channel else None,
            "source_campaign_id": self.source_campaign_id,
            "detail": self.detail[:DETAIL_MAX_LENGTH] if self.detail else None,
            "created_at": self.created_at,
        }


def insert_new(executor: Executor, entries: Sequence[NewSuppression]) -> list[int]:
    """Insert entries whose (address, scope) is not present yet; return the new ids.

    ``ON CONFLICT DO NOTHING`` keeps the first opt-out's reason and time and
    makes concurrent inserts of the same address safe on both backends.
    """
    if not entries:
        return []
    insert = postgresql.insert if dialect_name(executor) == "postgresql" else sqlite.insert
    statement = (
        insert(TABLE)
        .values([entry.as_values() for entry in entries])
        .on_conflict_do_nothing(index_elements=["address", "scope"])
        .returning(TABLE.c.id)
    )
    return list(executor.execute(statement).scalars())


def find_entry(executor: Executor, address: str, scopes: Collection[str]) -> Row[Any] | None:
    """The oldest entry for ``address`` in one of ``scopes``, if any."""
    statement = (
        select(TABLE)
        .where(TABLE.c.address == address, TABLE.c.scope.in_(list(scopes)))
        .order_by(TABLE.c.id)
        .limit(1)
    )
    return executor.execute(statement).first()


def find_suppressed(executor: Executor, addresses: Iterable[str], channel: Channel) -> set[str]:
    """The subset of ``addresses`` that must not be messaged on ``channel``.

    Addresses must be canonical (E.164, lower-cased email). One query per
    :data:`LOOKUP_CHUNK` addresses, each an index range scan on
    (address, scope).
    """
    scopes = [scope.value for scope in scopes_checked(channel)]
    unique = list(dict.fromkeys(addresses))
    found: set[str] = set()
    for start in range(0, len(unique), LOOKUP_CHUNK):
        chunk = unique[start : start + LOOKUP_CHUNK]
        statement = (
            select(TABLE.c.address)
            .where(TABLE.c.address.in_(chunk), TABLE.c.scope.in_(scopes))
            .distinct()
        )
        found.update(executor.execute(statement).scalars())
    return found


def delete_entries(
    executor: Executor,
    address: str,
    *,
    scopes: Collection[str] | None = None,
    reasons: Collection[str] | None = None,
) -> int:
    """Delete the entries of ``address`` in ``scopes`` with ``reasons`` (None: any)."""
    statement = delete(TABLE).where(TABLE.c.address == address)
    if scopes is not None:
        statement = statement.where(TABLE.c.scope.in_(list(scopes)))
    if reasons is not None:
        statement = statement.where(TABLE.c.reason.in_(list(reasons)))
    result = cast(CursorResult[Any], executor.execute(statement))
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class EntryFilter:
    scope: SuppressionScope | None = None
    reason: SuppressionReason | None = None
    address_contains: str | None = None


def page_entries(
    executor: Executor, where: EntryFilter, *, after_id: int | None, limit: int
) -> Sequence[Row[Any]]:
    """Entries in id order after ``after_id`` (keyset paging: stable under inserts)."""
    statement = select(TABLE).order_by(TABLE.c.id).limit(limit)
    if after_id is not None:
        statement = statement.where(TABLE.c.id > after_id)
    if where.scope is not None:
        statement = statement.where(TABLE.c.scope == where.scope.value)
    if where.reason is not None:
        statement = statement.where(TABLE.c.reason == where.reason.value)
    if where.address_contains:
        pattern = "%" + _escape_like(where.address_contains.strip().lower()) + "%"
        statement = statement.where(TABLE.c.address.like(pattern, escape="\\"))
    return executor.execute(statement).all()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
