"""Removing flagged rows from an audience, as the builder offers it.

A row is *flagged* when a problem names it. The user may remove flagged
rows, all at once or one by one. Nothing is lost by that: a removed row
stays stored word for word as an excluded row with status ``removed``, its
problems stay recorded, and the audience's summary is updated (a removed
contact no longer counts as a contact, a phone, an email or a filled field;
``records_read`` counts the rows still in the audience, so it remains
``valid_contacts + rejected_rows + duplicates``). Contacts move in batches,
so removing many rows holds little in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select, union_all, update

from herald.domain.audience.summary import (
    SAMPLE_VALUES,
    SAMPLED_CONTACTS,
    AudienceSummary,
    CustomFieldSummary,
)
from herald.errors import NotFoundError, ValidationError
from herald.services.audience_rows import REMOVED, flagged_condition, live_excluded
from herald.store import audiences as store
from herald.store.audiences import CONTACTS, EXCLUDED_ROWS, PROBLEMS, AudienceRecord

REMOVE_BATCH_ROWS = 2000
DUPLICATE_CODE = "duplicate_contact"


def remove_rows(engine: Engine, audience_id: int, rows: Sequence[int] | None = None) -> int:
    """Remove the given flagged rows, or every flagged row when ``rows`` is None.

    Returns how many rows were removed. A row that is not flagged, or not
    in the audience, is refused with a ValidationError naming it, and
    nothing is removed.
    """
    with engine.begin() as connection:
        store.lock_audience(connection, audience_id)
        audience = store.get_ready_audience(connection, audience_id)
        if rows is not None:
            _ensure_flagged(connection, audience_id, rows)
        summary = AudienceSummary.from_dict(audience.summary)
        removed_contacts = _remove_contacts(connection, audience_id, rows)
        excluded = _remove_excluded(connection, audience_id, rows)
        summary = _shrunk(connection, audience, summary, removed_contacts, excluded)
        store.save_summary(connection, audience.id, summary.as_dict())
    return removed_contacts.rows + sum(excluded.values())


@dataclass
class _RemovedContacts:
    rows: int = 0
    phones: int = 0
    emails: int = 0
    warnings: int = 0
    filled: dict[str, int] = field(default_factory=dict)


def _ensure_flagged(connection: Connection, audience_id: int, rows: Sequence[int]) -> None:
    wanted = sorted(set(rows))
    if not wanted:
        raise ValidationError("name at least one row to remove", field="row")
    p = PROBLEMS.c
    flagged = set(
        connection.scalars(
            select(p.row_number).where(p.audience_id == audience_id, p.row_number.in_(wanted))
        )
    )
    live = _live_rows(connection, audience_id, wanted)
    for row in wanted:
        if row not in live:
            raise NotFoundError(f"row {row} is not in this audience", field="row")
        if row not in flagged:
            raise ValidationError(
                f"row {row} is not flagged; only flagged rows can be removed here", field="row"
            )


def _live_rows(connection: Connection, audience_id: int, rows: list[int]) -> set[int]:
    c, e = CONTACTS.c, EXCLUDED_ROWS.c
    contacts = select(c.row_number).where(c.audience_id == audience_id, c.row_number.in_(rows))
    excluded = select(e.row_number).where(live_excluded(audience_id), e.row_number.in_(rows))
    return set(connection.scalars(union_all(contacts, excluded)))


def _remove_contacts(
    connection: Connection, audience_id: int, rows: Sequence[int] | None
) -> _RemovedContacts:
    """Move flagged contacts to the excluded rows (status ``removed``), batch by batch."""
    c, p = CONTACTS.c, PROBLEMS.c
    removed = _RemovedContacts()
    after = 0
    while True:
        query = (
            select(c.id, c.row_number, c.phone, c.email, c.fields, c.original)
            .where(
                c.audience_id == audience_id,
                c.row_number > after,
                flagged_condition(audience_id, c.row_number),
            )
            .order_by(c.row_number)
            .limit(REMOVE_BATCH_ROWS)
        )
        if rows is not None:
            query = query.where(c.row_number.in_(sorted(set(rows))))
        batch = list(connection.execute(query))
        if not batch:
            return removed
        numbers = [row.row_number for row in batch]
        store.add_excluded_rows(
            connection,
            [(audience_id, row.row_number, REMOVED, None, row.original) for row in batch],
        )
        connection.execute(CONTACTS.delete().where(c.id.in_([row.id for row in batch])))
        removed.warnings += int(
            connection.scalar(
                select(func.count()).where(
                    p.audience_id == audience_id,
                    p.row_number.in_(numbers),
                    p.severity == "warning",
                    p.code != DUPLICATE_CODE,
                )
            )
            or 0
        )
        _tally(removed, batch)
        after = numbers[-1]


def _tally(removed: _RemovedContacts, batch: Iterable[Any]) -> None:
    for row in batch:
        removed.rows += 1
        removed.phones += row.phone is not None
        removed.emails += row.email is not None
        for variable, value in (row.fields or {}).items():
            if value and not str(value).isspace():
                removed.filled[variable] = removed.filled.get(variable, 0) + 1


def _remove_excluded(
    connection: Connection, audience_id: int, rows: Sequence[int] | None
) -> dict[str, int]:
    """Mark rejected and duplicate rows removed; returns how many of each."""
    e = EXCLUDED_ROWS.c
    condition = live_excluded(audience_id)
    if rows is not None:
        condition = and_(condition, e.row_number.in_(sorted(set(rows))))
    counts = {
        status: int(count)
        for status, count in connection.execute(
            select(e.status, func.count()).where(condition).group_by(e.status)
        )
    }
    connection.execute(update(EXCLUDED_ROWS).where(condition).values(status=REMOVED))
    return counts


def _shrunk(
    connection: Connection,
    audience: AudienceRecord,
    summary: AudienceSummary,
    contacts: _RemovedContacts,
    excluded: dict[str, int],
) -> AudienceSummary:
    rejected = excluded.get("rejected", 0)
    duplicates = excluded.get("duplicate", 0)
    valid = max(0, summary.valid_contacts - contacts.rows)
    samples = _samples(connection, audience.id)
    fields = tuple(
        _field_after(item, contacts.filled.get(item.variable, 0), valid, samples)
        for item in summary.custom_fields
    )
    data = summary.as_dict() | {
        "records_read": max(0, summary.records_read - contacts.rows - rejected - duplicates),
        "valid_contacts": valid,
        "rejected_rows": max(0, summary.rejected_rows - rejected),
        "duplicates": max(0, summary.duplicates - duplicates),
        "warnings": max(0, summary.warnings - contacts.warnings),
        "phones_available": max(0, summary.phones_available - contacts.phones),
        "emails_available": max(0, summary.emails_available - contacts.emails),
    }
    data["custom_fields"] = [
        {
            "header": item.header,
            "variable": item.variable,
            "filled": item.filled,
            "fill_rate": item.fill_rate,
            "samples": list(item.samples),
        }
        for item in fields
    ]
    return AudienceSummary.from_dict(data)


def _field_after(
    item: CustomFieldSummary, removed: int, valid: int, samples: dict[str, list[str]]
) -> CustomFieldSummary:
    filled = max(0, item.filled - removed)
    rate = round(filled / valid, 4) if valid else 0.0
    return replace(
        item, filled=filled, fill_rate=rate, samples=tuple(samples.get(item.variable, ()))
    )


def _samples(connection: Connection, audience_id: int) -> dict[str, list[str]]:
    """Sample values again, from the first contacts left (as an import samples them)."""
    samples: dict[str, list[str]] = {}
    for contact in store.page_contacts(connection, audience_id, limit=SAMPLED_CONTACTS):
        for variable, value in contact.fields.items():
            chosen = samples.setdefault(variable, [])
            is_new = value and not value.isspace() and value not in chosen
            if is_new and len(chosen) < SAMPLE_VALUES:
                chosen.append(value)
    return samples
