"""Whether a Herald deployment can do useful work, check by check.

Three questions, each answered on its own so an operator sees which one
failed: does the database answer, is at least one worker process alive
(its heartbeat is recent), and is every active integration healthy (the
engine marks one unhealthy while its provider refuses or cannot be
reached, with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from herald.clock import Clock
from herald.engine.worker import STALE_AFTER
from herald.store.integrations import IntegrationRow
from herald.store.workers import live_workers

CHECK_NAMES = ("database", "workers", "integrations")


@dataclass(frozen=True)
class Check:
    name: str
    is_ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def is_ready(self) -> bool:
        return all(check.is_ok for check in self.checks)

    @property
    def failed(self) -> list[str]:
        return [check.name for check in self.checks if not check.is_ok]


def check_readiness(
    engine: Engine,
    sessions: sessionmaker[Session],
    clock: Clock,
    only: frozenset[str] = frozenset(CHECK_NAMES),
) -> Readiness:
    """Run the checks named in ``only``; the others need the database, so it goes first."""
    database = check_database(engine)
    checks = [database] if "database" in only else []
    if not database.is_ok:
        checks += [
            Check(name, False, "not checked: the database is unreachable")
            for name in CHECK_NAMES[1:]
            if name in only
        ]
        return Readiness(tuple(checks))
    with sessions() as session:
        if "workers" in only:
            checks.append(check_workers(session, clock.now(), stale_after(clock)))
        if "integrations" in only:
            checks.append(check_integrations(session))
    return Readiness(tuple(checks))


def check_database(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return Check("database", False, f"unreachable: {type(exc).__name__}")
    return Check("database", True, "ok")


def check_workers(session: Session, now: datetime, stale: timedelta) -> Check:
    alive = live_workers(session, now, stale)
    if not alive:
        return Check(
            "workers", False, "no worker has sent a heartbeat recently: start `herald worker`"
        )
    return Check("workers", True, f"{len(alive)} alive")


def check_integrations(session: Session) -> Check:
    unhealthy = session.execute(
        select(IntegrationRow.name, IntegrationRow.health_reason)
        .where(IntegrationRow.is_active.is_(True), IntegrationRow.health == "unhealthy")
        .order_by(IntegrationRow.name)
    ).all()
    if unhealthy:
        detail = "; ".join(f"{name}: {reason or 'unhealthy'}" for name, reason in unhealthy)
        return Check("integrations", False, detail)
    return Check("integrations", True, "ok")


def stale_after(clock: Clock) -> timedelta:
    """How old a heartbeat may be, in the clock's own time.

    Heartbeats are sent every few real seconds; a sped-up clock (demos)
    sees those seconds stretched by its speed-up.
    """
    speedup = getattr(clock, "speedup", 1.0)
    return STALE_AFTER * max(1.0, float(speedup))
