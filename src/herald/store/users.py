"""Users, and the failed-login counters that slow password guessing.

Failure counters live in the database rather than in memory so the limit
holds across every web process of a scaled-out deployment and survives a
restart. Each counter is one row per (scope, key), updated with an upsert so
two processes recording failures at once both count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.domain.login_throttle import FailureRecord, ThrottleScope
from herald.store.base import Base, UtcDateTime


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session cookie; bumping it ends all of the user's
    # sessions at once (logout, password change, deactivation).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LoginFailureRow(Base):
    __tablename__ = "login_failures"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


def find_failures(session: Session, scope: ThrottleScope, key: str) -> FailureRecord | None:
    row = session.get(LoginFailureRow, (scope.value, key))
    return None if row is None else FailureRecord(row.failures, row.last_failure_at)


def record_failure(
    session: Session, scope: ThrottleScope, key: str, now: datetime, forget_before: datetime
) -> None:
    """Count one more failure; a counter idle since ``forget_before`` restarts at one.

    The whole update is one statement, so concurrent failures from several
    processes are all counted; the caller commits.
    """
    values = {"scope": scope.value, "key": key, "failures": 1, "last_failure_at": now}
    table = LoginFailureRow
    new_count = case((table.last_failure_at <= forget_before, 1), else_=table.failures + 1)
    if session.get_bind().dialect.name == "postgresql":
        pg = pg_insert(table).values(values)
        session.execute(
            pg.on_conflict_do_update(
                index_elements=[table.scope, table.key],
                set_={"failures": new_count, "last_failure_at": pg.excluded.last_failure_at},
            )
        )
    else:
        lite = sqlite_insert(table).values(values)
        session.execute(
            lite.on_conflict_do_update(
                index_elements=[table.scope, table.key],
                set_={"failures": new_count, "last_failure_at": lite.excluded.last_failure_at},
            )
        )
    session.expire_all()


def clear_failures(session: Session, scope: ThrottleScope, key: str) -> None:
    session.execute(
        delete(LoginFailureRow).where(
            LoginFailureRow.scope == scope.value, LoginFailureRow.key == key
        )
    )


def prune_failures(session: Session, before: datetime) -> int:
    """Drop counters idle since ``before``: they no longer slow anybody down."""
    result = session.execute(
        delete(LoginFailureRow).where(LoginFailureRow.last_failure_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def find_user_by_email(session: Session, email: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.email == email))


def count_users(session: Session, *, role: str | None = None, active_only: bool = False) -> int:
    query = select(func.count()).select_from(UserRow)
    if role is not None:
        query = query.where(UserRow.role == role)
    if active_only:
        query = query.where(UserRow.is_active.is_(True))
    return int(session.scalar(query) or 0)
