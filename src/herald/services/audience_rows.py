"""An audience row by row, as the builder's preview table shows it.

The table shows every record of the file in row order: contacts and the
rows that did not become contacts (rejected, duplicates), each cell as it
was read, with the problems found on the row. It pages by row number
(keyset), so a 100,000-row upload never loads more than one page.

A row is *flagged* when a problem names it; removed rows (see
:mod:`herald.services.audience_row_removal`) are no longer shown.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, func, select, union_all

from herald.domain.audience.columns import ColumnMapping
from herald.errors import ValidationError
from herald.store import audiences as store
from herald.store.audiences import CONTACTS, EXCLUDED_ROWS, PROBLEMS, AudienceRecord

REMOVED = "removed"
NO_CONTACT = "no_contact"
CONTACT = "contact"
MAX_PAGE_ROWS = 200


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

    def missing_contact(self) -> tuple[RowProblem, ...]:
        """The problem of a row without phone and email, which its contact cells show."""
        return tuple(problem for problem in self.problems if problem.code == NO_CONTACT)

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
    contact_columns: tuple[str, ...] = ()
    """The phone and email columns' headers: where a missing contact shows."""

    def cell_problems(self, row: PreviewRow, column: str) -> tuple[RowProblem, ...]:
        """What to flag on one cell: its own problems, and a missing contact in contact cells."""
        problems = row.cell_problems(column)
        if column in self.contact_columns:
            problems += row.missing_contact()
        return problems

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
            contact_columns=_contact_columns(audience),
        )


# -- reading -----------------------------------------------------------------


def live_excluded(audience_id: int) -> Any:
    e = EXCLUDED_ROWS.c
    return and_(e.audience_id == audience_id, e.status != REMOVED)


def flagged_condition(audience_id: int, row_column: Any) -> Any:
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
    excluded_rows = select(e.row_number.label("n")).where(live_excluded(audience_id))
    if flagged_only:
        contact_rows = contact_rows.where(flagged_condition(audience_id, c.row_number))
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
        live_excluded(audience.id), e.row_number.in_(numbers)
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


def _contact_columns(audience: AudienceRecord) -> tuple[str, ...]:
    mapping = ColumnMapping.from_dict(audience.header, audience.column_mapping)
    return tuple(name for name in (mapping.phone_column, mapping.email_column) if name)


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
    excluded = connection.scalar(select(func.count()).where(live_excluded(audience_id)))
    return int(contacts or 0) + int(excluded or 0)


def _count_flagged(connection: Connection, audience_id: int) -> int:
    c = CONTACTS.c
    contacts = connection.scalar(
        select(func.count()).where(
            c.audience_id == audience_id, flagged_condition(audience_id, c.row_number)
        )
    )
    # Every excluded row was excluded for a reason that is recorded as a problem.
    excluded = connection.scalar(select(func.count()).where(live_excluded(audience_id)))
    return int(contacts or 0) + int(excluded or 0)
