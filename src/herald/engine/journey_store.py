"""The journey worker's database side: claim, load, write back, release.

Claims are one statement: an UPDATE of up to ``limit`` due, unleased
journeys, chosen with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so concurrent
workers never take the same journey (SQLite has one writer at a time anyway).
A claimed journey's ``due_at`` is moved to the end of its lease: if the worker
dies, the journey becomes due again when the lease runs out and the next
worker finds its unanswered send intents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from herald.channels.codec import event_from_json
from herald.domain.journey_state import JourneyState
from herald.engine.batch import ClaimedJourney
from herald.store.audiences import CONTACTS
from herald.store.campaigns import add_to_counters
from herald.store.inbox import ProviderEventRow
from herald.store.journeys import JOURNEY_LOG, JOURNEYS, MESSAGES

PROVIDER_EVENTS = ProviderEventRow.metadata.tables[ProviderEventRow.__tablename__]


@dataclass(frozen=True)
class PendingIntent:
    """A send recorded as intended but never answered: its outcome is unknown."""

    journey_id: int
    step: int
    attempt: int
    key: str


@dataclass(frozen=True)
class RoutedEvent:
    id: int
    journey_id: int
    step: int | None
    route: str | None
    payload: dict[str, Any]


def claim_journeys(
    session: Session, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedJourney]:
    until = now + lease
    candidates = (
        select(JOURNEYS.c.id)
        .where(JOURNEYS.c.due_at <= now)
        .where(or_(JOURNEYS.c.lease_until.is_(None), JOURNEYS.c.lease_until < now))
        .order_by(JOURNEYS.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.execute(
        update(JOURNEYS)
        .where(JOURNEYS.c.id.in_(candidates.scalar_subquery()))
        .values(lease_owner=owner, lease_until=until, due_at=until)
        .returning(
            JOURNEYS.c.id,
            JOURNEYS.c.campaign_id,
            JOURNEYS.c.contact_id,
            JOURNEYS.c.phone,
            JOURNEYS.c.email,
            JOURNEYS.c.state,
            JOURNEYS.c.last_sent_at,
            JOURNEYS.c.last_delivered_at,
        )
    ).all()
    fields = _contact_fields(session, [row.contact_id for row in claimed])
    return [
        ClaimedJourney(
            id=row.id,
            campaign_id=row.campaign_id,
            phone=row.phone,
            email=row.email,
            fields=fields.get(row.contact_id, {}),
            state=JourneyState.from_dict(row.state),
            last_sent_at=row.last_sent_at,
            last_delivered_at=row.last_delivered_at,
        )
        for row in sorted(claimed, key=lambda r: r.id)
    ]


def _contact_fields(session: Session, contact_ids: list[int]) -> dict[int, dict[str, str]]:
    if not contact_ids:
        return {}
    query = select(CONTACTS.c.id, CONTACTS.c.fields).where(CONTACTS.c.id.in_(contact_ids))
    return {row.id: dict(row.fields or {}) for row in session.execute(query)}


def find_pending_intents(session: Session, journey_ids: Sequence[int]) -> list[PendingIntent]:
    query = select(
        MESSAGES.c.journey_id, MESSAGES.c.step, MESSAGES.c.attempt, MESSAGES.c.key
    ).where(MESSAGES.c.journey_id.in_(journey_ids), MESSAGES.c.status == "pending")
    return [PendingIntent(*row) for row in session.execute(query)]


def load_routed_events(session: Session, journey_ids: Sequence[int]) -> list[RoutedEvent]:
    query = (
        select(
            PROVIDER_EVENTS.c.id,
            PROVIDER_EVENTS.c.journey_id,
            PROVIDER_EVENTS.c.step,
            PROVIDER_EVENTS.c.route,
            PROVIDER_EVENTS.c.payload,
        )
        .where(
            PROVIDER_EVENTS.c.journey_id.in_(journey_ids),
            PROVIDER_EVENTS.c.processed_at.is_(None),
        )
        .order_by(PROVIDER_EVENTS.c.id)
    )
    return [RoutedEvent(*row) for row in session.execute(query)]


@dataclass
class BatchWrite:
    """Rows a batch stage writes in one transaction."""

    journeys: list[ClaimedJourney]
    new_messages: list[dict[str, Any]]
    retried_messages: list[dict[str, Any]]
    message_results: list[dict[str, Any]]
    log: list[dict[str, Any]]
    processed_event_ids: list[int]


class LeaseLostError(RuntimeError):
    """Another worker took over journeys this one was still working on."""


def write_batch(
    session: Session, write: BatchWrite, owner: str, now: datetime, *, release: bool
) -> None:
    """Write a stage's effects; with ``release``, hand the journeys back.

    Message rows for first attempts are inserted before anything is sent;
    retries flip their row back to ``pending`` only from ``retry_wait`` —
    a guard the state machine makes redundant, checked anyway because a
    second send of a step is the one mistake Herald must never make.
    """
    if write.new_messages:
        session.execute(insert(MESSAGES), write.new_messages)
    if write.retried_messages:
        _mark_retries(session, write.retried_messages)
    if write.message_results:
        _apply_message_results(session, write.message_results)
    if write.log:
        session.execute(insert(JOURNEY_LOG), write.log)
    if write.processed_event_ids:
        session.execute(
            update(PROVIDER_EVENTS)
            .where(PROVIDER_EVENTS.c.id.in_(write.processed_event_ids))
            .values(processed_at=now)
        )
    _write_journeys(session, write.journeys, owner, now, release=release)


def write_counters(session: Session, counters: dict[tuple[int, str], int]) -> None:
    """Add a batch's counter deltas: the last write of its transaction, always.

    Every worker adds to the same few counter rows, so their locks are the
    one thing all batches share. Taken last, right before the commit, they
    are held for moments, and a transaction holding them never waits for
    another lock: taken earlier, a batch holding them could wait for a
    journey the router holds while another batch, holding that journey's
    neighbours since its claim, waits for the counters — a deadlock.
    """
    add_to_counters(session, counters)


def _mark_retries(session: Session, rows: list[dict[str, Any]]) -> None:
    statement = (
        update(MESSAGES)
        .where(MESSAGES.c.key == bindparam("b_key"), MESSAGES.c.status == "retry_wait")
        .values(attempt=bindparam("b_attempt"), status="pending")
    )
    params = [{"b_key": row["key"], "b_attempt": row["attempt"]} for row in rows]
    result = cast(CursorResult[Any], session.execute(statement, params))
    if result.rowcount != len(rows):
        raise LeaseLostError("a retried message was not waiting for a retry; refusing to send")


MESSAGE_RESULT_COLUMNS = (
    "status",
    "provider_message_id",
    "error_code",
    "error_title",
    "error_detail",
    "sent_at",
    "status_at",
)


def _apply_message_results(session: Session, results: list[dict[str, Any]]) -> None:
    """Bulk-update message rows: one executemany per set of allowed prior statuses.

    A value left out of a result keeps the column's current value (COALESCE),
    so every row can share one statement; ``from_statuses`` guards against
    regressions such as a late "sent" overwriting "delivered".
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for result in results:
        guard = tuple(result.get("from_statuses") or ())
        params = {"b_key": result["key"]}
        params |= {f"v_{name}": result.get(name) for name in MESSAGE_RESULT_COLUMNS}
        groups.setdefault(guard, []).append(params)
    values: dict[str, ColumnElement[Any]] = {
        name: func.coalesce(bindparam(f"v_{name}"), MESSAGES.c[name])
        for name in MESSAGE_RESULT_COLUMNS
    }
    for guard, rows in groups.items():
        statement = update(MESSAGES).where(MESSAGES.c.key == bindparam("b_key"))
        if guard:
            # Expanding IN cannot take parameters in executemany; the guard is
            # Herald's own status names, rendered as SQL literals.
            statement = statement.where(MESSAGES.c.status.in_([_sql_word(w) for w in guard]))
        session.execute(statement.values(**values), rows)


def _sql_word(word: str) -> ColumnElement[Any]:
    if not word.replace("_", "").isalpha():
        raise ValueError(f"not a status name: {word!r}")
    return literal_column(f"'{word}'")


def _write_journeys(
    session: Session,
    journeys: Sequence[ClaimedJourney],
    owner: str,
    now: datetime,
    *,
    release: bool,
) -> None:
    rows: list[dict[str, Any]] = []
    for journey in journeys:
        state = journey.state
        row = {
            "b_id": journey.id,
            "b_owner": owner,
            "v_state": state.to_dict(),
            "v_phase": state.phase.value,
            "v_outcome": None if state.outcome is None else state.outcome.value,
            "v_last_sent_at": journey.last_sent_at,
            "v_last_delivered_at": journey.last_delivered_at,
            "v_updated_at": now,
        }
        rows.append(row)
    if not rows:
        return
    values: dict[str, Any] = {
        "state": bindparam("v_state"),
        "phase": bindparam("v_phase"),
        "outcome": bindparam("v_outcome"),
        "last_sent_at": bindparam("v_last_sent_at"),
        "last_delivered_at": bindparam("v_last_delivered_at"),
        "updated_at": bindparam("v_updated_at"),
    }
    if release:
        values |= {"due_at": bindparam("v_due_at"), "lease_owner": None, "lease_until": None}
        for row, journey in zip(rows, journeys, strict=True):
            row["v_due_at"] = journey.state.due_at
    statement = (
        update(JOURNEYS)
        .where(JOURNEYS.c.id == bindparam("b_id"), JOURNEYS.c.lease_owner == bindparam("b_owner"))
        .values(**values)
    )
    result = cast(CursorResult[Any], session.execute(statement, rows))
    if result.rowcount != len(rows):
        raise LeaseLostError(f"{len(rows) - result.rowcount} journeys were taken over")
    if release:
        _wake_for_waiting_events(session, [row["b_id"] for row in rows], now)


def wake_journeys(session: Session, journey_ids: Sequence[int], now: datetime) -> None:
    """Make journeys due now so the journey worker applies their new events.

    Every listed row is updated, even one that looks due already: the
    update's row lock is what orders this wake-up against a worker that
    claims the journey or releases it (see :func:`_wake_for_waiting_events`).
    A journey skipped because it was due could be claimed, and released with
    a far timer, before the caller's events were visible to that worker; the
    events then waited for the timer. A journey already due and free keeps
    its place in the queue.

    The rows are locked in id order first: an ``UPDATE ... WHERE id IN``
    locks rows in whatever order its scan meets them, while journey workers
    write their batches in id order, and two transactions taking the same
    rows in opposite orders deadlock.
    """
    ids = sorted(set(journey_ids))
    if not ids:
        return
    session.execute(
        select(JOURNEYS.c.id)
        .where(JOURNEYS.c.id.in_(ids))
        .order_by(JOURNEYS.c.id)
        .with_for_update()
    )
    keeps_place = and_(
        JOURNEYS.c.due_at.is_not(None), JOURNEYS.c.due_at <= now, JOURNEYS.c.lease_owner.is_(None)
    )
    session.execute(
        update(JOURNEYS)
        .where(JOURNEYS.c.id.in_(ids))
        .values(due_at=case((keeps_place, JOURNEYS.c.due_at), else_=now))
    )


def _wake_for_waiting_events(session: Session, journey_ids: list[int], now: datetime) -> None:
    """Journeys with events routed while they were leased are due at once.

    Runs after the journeys' own UPDATE, whose row locks make a concurrent
    router's wake-up wait for this transaction; an event routed before that
    is visible to this query. Either way no wake-up is lost.
    """
    waiting = select(PROVIDER_EVENTS.c.journey_id).where(
        PROVIDER_EVENTS.c.journey_id.in_(journey_ids), PROVIDER_EVENTS.c.processed_at.is_(None)
    )
    session.execute(
        update(JOURNEYS).where(JOURNEYS.c.id.in_(waiting.scalar_subquery())).values(due_at=now)
    )


def decode_event(event: RoutedEvent) -> Any:
    return event_from_json(event.payload)
