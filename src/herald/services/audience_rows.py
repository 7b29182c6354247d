"""An audience row by row, as the builder's preview table shows it, and removing flagged rows.

The table shows every record of the file in row order: contacts and the
rows that did not become contacts (rejected, duplicates), each cell as it
was read, with the problems found on the row. It pages by row number
(keyset), so a 100,000-row upload never loads more than one page.

A row is *flagged* when a problem names it. The user may remove flagged
rows, all at once or one by one. Nothing is lost by that either: a removed
row stays stored word for word as an excluded row with status
``removed``, its problems stay recorded, and the audience's summary is
updated (a removed contact no longer counts as a contact, a phone, an email
or a filled field; ``records_read`` counts the rows still in the audience,
so it remains ``valid_contacts + rejected_rows + duplicates``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, func, select, union_all, update

from herald.domain.audience.summary import (
    SAMPLE_VALUES,
    SAMPLED_CONTACTS,
    AudienceSummary,
    CustomFieldSummary,
)
from herald.errors import NotFoundError, ValidationError
from herald.store import audiences as store
from herald.store.audiences import CONTACTS, EXCLUDED_ROWS, PROBLEMS, AudienceRecord

REMOVED = "removed"
CONTACT = "contact"
MAX_PAGE_ROWS = 200
REMOVE_BATCH_ROWS = 2000
DUPLICATE_CODE = "duplicate_contact"


@dataclass(frozen=True)
class RowProblem:
    column: str | None
    code: str
    severity: str
    message: str


@dataclass(frozen=True)
class PreviewRow:
    """One record of the file: ``kind`` is ``contact``, ``rejected`` or ``duplicate``."""

    row_number: int
    kind: str
    cells: tuple[str, ...]
    problems: tuple[RowProblem, ...]
    duplicate_of_row: int | None

    @property
    def is_flagged(self) -> bool:
        return bool(self.problems)

    def cell_problems(self, column: str) -> tuple[RowProblem, ...]:
        return tuple(problem for problem in self.problems if problem.column == column)

    @property
    def row_problems(self) -> tuple[RowProblem, ...]:
        """Problems about the whole row rather than one cell."""
        return tuple(problem for problem in self.problems if problem.column is None)


@dataclass(frozen=True)
class RowsPage:
    header: tuple[str, ...]
    rows: tuple[PreviewRow, ...]
    has_previous: bool
    has_next: bool
    total_rows: int
    flagged_rows: int
    flagged_only: bool

    @property
    def first_row(self) -> int | None:
        return self.rows[0].row_number if self.rows else None

    @property
    def last_row(self) -> int | None:
        return self.rows[-1].row_number if self.rows else None


def page_rows(
    engine: Engine,
    audience_id: int,
    *,
    after: int = 0,
    before: int | None = None,
    limit: int = 50,
    flagged_only: bool = False,
) -> RowsPage:
    """``limit`` rows after row ``after`` (or the ones just before row ``before``)."""
    if not 1 <= limit <= MAX_PAGE_ROWS:
        raise ValidationError(f"a page holds 1 to {MAX_PAGE_ROWS} rows", field="limit")
    with engine.connect() as connection:
        audience = store.get_audience(connection, audience_id)
        numbers = _row_numbers(connection, audience_id, after, before, limit + 1, flagged_only)
        extra = len(numbers) > limit
        if before is not None:
            numbers = sorted(numbers[:limit])
            has_previous, has_next = extra, True
        else:
            numbers = numbers[:limit]
            has_previous, has_next = (
                after > 0 and _any_before(connection, audience_id, after + 1, flagged_only),
                extra,
            )
        rows = _load_rows(connection, audience, numbers)
        return RowsPage(
            header=tuple(audience.header),
            rows=rows,
            has_previous=has_previous,
            has_next=has_next,
            total_rows=_count_rows(connection, audience_id),
            flagged_rows=_count_flagged(connection, audience_id),
            flagged_only=flagged_only,
        )


def flagged_count(engine: Engine, audience_id: int) -> int:
    with engine.connect() as connection:
        return _count_flagged(connection, audience_id)


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


# -- reading -----------------------------------------------------------------


def _live_excluded(audience_id: int) -> Any:
    e = EXCLUDED_ROWS.c
    return and_(e.audience_id == audience_id, e.status != REMOVED)


def _flagged_condition(audience_id: int, row_column: Any) -> Any:
    p = PROBLEMS.c
    return exists().where(p.audience_id == audience_id, p.row_number == row_column)


def _row_numbers(
    connection: Connection,
    audience_id: int,
    after: int,
    before: int | None,
    limit: int,
    flagged_only: bool,
) -> list[int]:
    c, e = CONTACTS.c, EXCLUDED_ROWS.c
    contact_rows = select(c.row_number.label("n")).where(c.audience_id == audience_id)
    excluded_rows = select(e.row_number.label("n")).where(_live_excluded(audience_id))
    if flagged_only:
        contact_rows = contact_rows.where(_flagged_condition(audience_id, c.row_number))
    if before is not None:
        contact_rows = contact_rows.where(c.row_number < before)
        excluded_rows = excluded_rows.where(e.row_number < before)
    else:
        contact_rows = contact_rows.where(c.row_number > after)
        excluded_rows = excluded_rows.where(e.row_number > after)
    both = union_all(contact_rows, excluded_rows).subquery()
    order = both.c.n.desc() if before is not None else both.c.n
    query = select(both.c.n).order_by(order).limit(limit)
    return [int(number) for number in connection.scalars(query)]


def _any_before(connection: Connection, audience_id: int, row: int, flagged_only: bool) -> bool:
    return bool(_row_numbers(connection, audience_id, 0, row, 1, flagged_only))


def _load_rows(
    connection: Connection, audience: AudienceRecord, numbers: list[int]
) -> tuple[PreviewRow, ...]:
    if not numbers:
        return ()
    c, e, p = CONTACTS.c, EXCLUDED_ROWS.c, PROBLEMS.c
    found: dict[int, tuple[str, str, int | None]] = {}
    contacts = select(c.row_number, c.original).where(
        c.audience_id == audience.id, c.row_number.in_(numbers)
    )
    for number, original in connection.execute(contacts):
        found[number] = (CONTACT, original, None)
    excluded = select(e.row_number, e.status, e.original, e.duplicate_of_row).where(
        _live_excluded(audience.id), e.row_number.in_(numbers)
    )
    for number, status, original, duplicate_of in connection.execute(excluded):
        found[number] = (status, original, duplicate_of)
    problems: dict[int, list[RowProblem]] = {}
    query = (
        select(p.row_number, p.column_name, p.code, p.severity, p.message)
        .where(p.audience_id == audience.id, p.row_number.in_(numbers))
        .order_by(p.id)
    )
    for number, column, code, severity, message in connection.execute(query):
        problems.setdefault(number, []).append(RowProblem(column, code, severity, message))
    width = len(audience.header)
    delimiter = audience.delimiter or ","
    return tuple(
        PreviewRow(
            row_number=number,
            kind=found[number][0],
            cells=_cells(found[number][1], delimiter, width),
            problems=tuple(problems.get(number, ())),
            duplicate_of_row=found[number][2],
        )
        for number in numbers
        if number in found
    )


def _cells(original: str, delimiter: str, width: int) -> tuple[str, ...]:
    """The row's cells as read; a row with too many cells keeps the rest in its last cell."""
    try:
        cells = next(csv.reader(io.StringIO(original, newline=""), delimiter=delimiter), [])
    except csv.Error:
        cells = [original]
    if len(cells) > width > 0:
        cells = [*cells[: width - 1], delimiter.join(cells[width - 1 :])]
    return tuple(cells) + ("",) * (width - len(cells))


def _count_rows(connection: Connection, audience_id: int) -> int:
    c = CONTACTS.c
    contacts = connection.scalar(select(func.count()).where(c.audience_id == audience_id))
    excluded = connection.scalar(select(func.count()).where(_live_excluded(audience_id)))
    return int(contacts or 0) + int(excluded or 0)


def _count_flagged(connection: Connection, audience_id: int) -> int:
    c = CONTACTS.c
    contacts = connection.scalar(
        select(func.count()).where(
            c.audience_id == audience_id, _flagged_condition(audience_id, c.row_number)
        )
    )
    # Every excluded row was excluded for a reason that is recorded as a problem.
    excluded = connection.scalar(select(func.count()).where(_live_excluded(audience_id)))
    return int(contacts or 0) + int(excluded or 0)


# -- removing ----------------------------------------------------------------


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
    excluded = select(e.row_number).where(_live_excluded(audience_id), e.row_number.in_(rows))
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
                _flagged_condition(audience_id, c.row_number),
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
    condition = _live_excluded(audience_id)
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
