"""Suppression list as CSV: import (row-by-row validation) and export (injection-safe).

Format (header row required, names case-insensitive, comma or semicolon)::

    address,reason,scope,channel,source_campaign_id,detail,created_at
    +34600111222,keyword,all,sms,42,STOP,2025-01-06T09:00:00+00:00
    ana@example.com,,,,,,

Only ``address`` is required. ``reason`` defaults to ``import``, ``scope`` to
``all``, ``created_at`` (ISO 8601 with an offset) to the import time. Other
columns are ignored and reported. A bad row is skipped with an error naming
its line and column; every good row is kept. Import only ever adds entries:
an address already suppressed keeps its original entry.

Export writes the same columns, so an export imports back unchanged. Cells a
spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage
return) get a leading apostrophe; import removes that apostrophe again.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TextIO, TypeVar

from herald.clock import Clock
from herald.domain.channels import Channel
from herald.domain.suppression import SuppressionReason, SuppressionScope, normalize_address
from herald.errors import ValidationError
from herald.services.suppression import Suppression, to_suppression
from herald.store import suppression as table
from herald.store.suppression import EntryFilter, Executor, NewSuppression

COLUMNS = ("address", "reason", "scope", "channel", "source_campaign_id", "detail", "created_at")
IMPORT_BATCH_ROWS = 500
EXPORT_BATCH_ROWS = 1000
MAX_REPORTED_ERRORS = 1000
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

E = TypeVar("E", bound=StrEnum)
D = TypeVar("D")


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class SuppressionImportReport:
    rows_read: int = 0
    added: int = 0
    already_present: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0  # errors beyond MAX_REPORTED_ERRORS are counted, not kept
    ignored_columns: tuple[str, ...] = ()


def neutralize_cell(value: str) -> str:
    """Prefix an apostrophe to a cell a spreadsheet would evaluate as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _unneutralize(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS) else value


def import_suppressions_csv(
    session: Executor, source: TextIO, *, clock: Clock, default_region: str = "US"
) -> SuppressionImportReport:
    """Add every valid row of ``source`` to the suppression list (see module docstring)."""
    rows, header = _open_rows(source)
    if "address" not in header:
        raise ValidationError(
            f"the header has no 'address' column (found: {', '.join(header) or 'nothing'})",
            field="address",
        )
    report = SuppressionImportReport(ignored_columns=tuple(c for c in header if c not in COLUMNS))
    now = clock.now()
    batch: dict[tuple[str, str], NewSuppression] = {}
    for line, record in rows:
        if not any(cell.strip() for cell in record.values()):
            continue
        report.rows_read += 1
        try:
            entry = _parse_row(record, now, default_region)
        except _RowError as problem:
            _add_error(report, RowError(line, problem.column, problem.message))
            continue
        key = (entry.address, entry.scope.value)
        if key in batch:  # the same address twice in one batch: the first row wins
            report.already_present += 1
            continue
        batch[key] = entry
        if len(batch) >= IMPORT_BATCH_ROWS:
            _flush(session, batch, report)
    _flush(session, batch, report)
    return report


def _open_rows(source: TextIO) -> tuple[Iterator[tuple[int, dict[str, str]]], list[str]]:
    first = source.readline()
    if not first.strip():
        raise ValidationError("the file is empty: expected a header row with 'address'")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(itertools.chain([first], source), delimiter=delimiter)
    header = [name.strip().lstrip("\ufeff").lower() for name in next(reader)]

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        for cells in reader:
            yield reader.line_num, dict(zip(header, cells, strict=False))

    return records(), header


class _RowError(Exception):
    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def _cell(record: dict[str, str], column: str) -> str:
    return _unneutralize(record.get(column, "").strip())


def _parse_row(record: dict[str, str], now: datetime, region: str) -> NewSuppression:
    try:
        address = normalize_address(_cell(record, "address"), default_region=region)
    except ValidationError as exc:
        raise _RowError("address", exc.message) from exc
    return NewSuppression(
        address=address,
        scope=_enum(record, "scope", SuppressionScope, SuppressionScope.ALL),
        reason=_enum(record, "reason", SuppressionReason, SuppressionReason.IMPORT),
        channel=_enum(record, "channel", Channel, None),
        source_campaign_id=_campaign_id(_cell(record, "source_campaign_id")),
        detail=_cell(record, "detail") or None,
        created_at=_created_at(_cell(record, "created_at"), now),
    )


def _enum(record: dict[str, str], column: str, kind: type[E], default: D) -> E | D:
    value = _cell(record, column).lower()
    if not value:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise _RowError(column, f"{value!r} is not one of: {allowed}") from None


def _campaign_id(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise _RowError("source_campaign_id", f"{value!r} is not a campaign id (a number)")
    return int(value)


def _created_at(value: str, now: datetime) -> datetime:
    if not value:
        return now
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _RowError("created_at", f"{value!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise _RowError("created_at", f"{value!r} has no UTC offset (add Z or +00:00)")
    return moment


def _add_error(report: SuppressionImportReport, error: RowError) -> None:
    report.errors_total += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append(error)


def _flush(
    session: Executor,
    batch: dict[tuple[str, str], NewSuppression],
    report: SuppressionImportReport,
) -> None:
    inserted = len(table.insert_new(session, list(batch.values())))
    report.added += inserted
    report.already_present += len(batch) - inserted
    batch.clear()


def iter_suppressions(
    session: Executor, *, where: EntryFilter | None = None
) -> Iterator[Suppression]:
    """Every entry in id order, read in bounded batches (flat memory)."""
    after_id: int | None = None
    while True:
        rows = table.page_entries(
            session, where or EntryFilter(), after_id=after_id, limit=EXPORT_BATCH_ROWS
        )
        yield from (to_suppression(row) for row in rows)
        if len(rows) < EXPORT_BATCH_ROWS:
            return
        after_id = rows[-1].id


def export_suppressions_csv(
    session: Executor, out: TextIO, *, where: EntryFilter | None = None
) -> int:
    """Write the list (optionally filtered) as CSV to ``out``; return the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for entry in iter_suppressions(session, where=where):
        writer.writerow([neutralize_cell(cell) for cell in _cells(entry)])
        count += 1
    return count


def _cells(entry: Suppression) -> list[str]:
    return [
        entry.address,
        entry.reason.value,
        entry.scope.value,
        entry.channel.value if entry.channel else "",
        "" if entry.source_campaign_id is None else str(entry.source_campaign_id),
        entry.detail or "",
        entry.created_at.isoformat(),
    ]
