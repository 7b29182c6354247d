"""One pass over an upload: read, validate, find duplicates, summarise.

Reading and duplicate detection run in order in the caller's process;
validation, the expensive part, goes through ``map_batches``: the built-in
``map`` by default, or any ordered, lazy map (a process pool) supplied by
the caller. Memory stays bounded by the batches in flight, whatever the
size of the file.

Every record ends in exactly one :class:`RowStatus`:

* ``added``: a new contact;
* ``duplicate``: same phone or email as an earlier contact; not a new
  contact, reported with the row it repeats, its original text kept;
* ``rejected``: an error keeps it out; its original text is kept too.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from itertools import islice
from typing import BinaryIO, NamedTuple

import phonenumbers

from herald.domain.audience.columns import ColumnMapping, map_columns
from herald.domain.audience.duplicates import DuplicateIndex
from herald.domain.audience.email_address import email_key
from herald.domain.audience.export import restore_cell
from herald.domain.audience.problems import Problem, ProblemCode, Severity
from herald.domain.audience.reader import RawRecord, SpreadsheetReader
from herald.domain.audience.summary import AudienceSummary, SummaryBuilder
from herald.domain.audience.validation import Task, ValidationPlan, Verdict, validate_batch
from herald.errors import ValidationError

BATCH_RECORDS = 2000

BatchFunction = Callable[[list[Task]], list[Verdict]]
BatchMapper = Callable[[BatchFunction, Iterable[list[Task]]], Iterable[list[Verdict]]]
"""An ordered, lazy ``map``: results come back in the order batches went in."""


class RowStatus(StrEnum):
    ADDED = "added"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class RowOutcome(NamedTuple):
    """What became of one record. ``values`` (custom fields by variable) is
    filled for added rows only; ``original`` is the record's text as read."""

    row: int
    status: RowStatus
    phone: str | None
    email: str | None
    values: dict[str, str]
    original: str
    problems: tuple[Problem, ...]
    duplicate_of: int | None = None


def checked_region(region: str) -> str:
    """An upper-case region code phonenumbers knows, or a ValidationError."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            f"'{region}' is not a region code phone numbers can be read in; use an ISO "
            "3166 code such as GB, US or FR.",
            code="invalid_region",
            field="default_region",
        )
    return code


def _restored(record: RawRecord) -> RawRecord:
    """Undo the export's formula escape (see :mod:`~herald.domain.audience.export`).

    Checking the row's text first keeps the common row (no apostrophe) cheap.
    """
    if "'" not in record.original:
        return record
    return record._replace(fields=[restore_cell(cell) for cell in record.fields])


class AudienceCheck:
    """Checks one upload. Construction reads the header (and may refuse the file);
    :meth:`outcomes` streams the rows once; :meth:`summary` is complete after that."""

    def __init__(
        self,
        source: Iterable[bytes] | BinaryIO,
        *,
        default_region: str,
        map_batches: BatchMapper = map,
        batch_records: int = BATCH_RECORDS,
    ) -> None:
        region = checked_region(default_region)
        self.reader = SpreadsheetReader(source)
        header = tuple(restore_cell(text) for text in self.reader.header)
        self.mapping: ColumnMapping = map_columns(header, header_row=self.reader.header_row)
        self.plan = ValidationPlan(self.mapping, region, self.reader.delimiter)
        self._map_batches = map_batches
        self._batch_records = batch_records
        self._builder = SummaryBuilder(self.mapping)
        self._index = DuplicateIndex()
        self._variables = [(f.variable, f.index) for f in self.mapping.custom_fields]

    def outcomes(self) -> Iterator[RowOutcome]:
        pending: deque[list[RawRecord]] = deque()

        def tasks() -> Iterator[list[Task]]:
            records = map(_restored, self.reader.records())
            while batch := list(islice(records, self._batch_records)):
                pending.append(batch)
                yield [(r.row, r.fields, r.quote_error) for r in batch]

        validate = functools.partial(validate_batch, self.plan)
        for verdicts in self._map_batches(validate, tasks()):
            for record, verdict in zip(pending.popleft(), verdicts, strict=True):
                yield self._settle(record, verdict)

    def encoding_problems(self) -> tuple[Problem, ...]:
        """A mid-file encoding switch, known once :meth:`outcomes` is exhausted.

        With ``mapping.notes`` (header problems) these are the problems of the
        file as a whole.
        """
        notice = self.reader.encoding_notice
        if notice is None:
            return ()
        return (Problem(None, None, ProblemCode.MIXED_ENCODING, Severity.WARNING, notice),)

    def summary(self) -> AudienceSummary:
        for problem in (*self.mapping.notes, *self.encoding_problems()):
            self._builder.add_problem_severity(problem.severity)
        return self._builder.build(self.reader.blank_rows)

    def _settle(self, record: RawRecord, verdict: Verdict) -> RowOutcome:
        builder = self._builder
        builder.count("records_read")
        if verdict.rejected:
            builder.count("rejected_rows")
            return RowOutcome(
                record.row, RowStatus.REJECTED, None, None, {}, record.original, verdict.problems
            )
        for problem in verdict.problems:
            builder.add_problem_severity(problem.severity)
        key = None if verdict.email is None else email_key(verdict.email)
        phone_row, email_row = self._index.find(verdict.phone, key)
        if phone_row is None and email_row is None:
            self._index.add(record.row, verdict.phone, key)
            fields = record.fields
            values = {variable: fields[index] for variable, index in self._variables}
            builder.add_contact(verdict.phone, verdict.email, values)
            return RowOutcome(
                record.row,
                RowStatus.ADDED,
                verdict.phone,
                verdict.email,
                values,
                record.original,
                verdict.problems,
            )
        builder.count("duplicates")
        duplicate = self._duplicate_problem(record.row, verdict, phone_row, email_row)
        return RowOutcome(
            record.row,
            RowStatus.DUPLICATE,
            verdict.phone,
            verdict.email,
            {},
            record.original,
            (*verdict.problems, duplicate),
            min(row for row in (phone_row, email_row) if row is not None),
        )

    def _duplicate_problem(
        self, row: int, verdict: Verdict, phone_row: int | None, email_row: int | None
    ) -> Problem:
        if phone_row == email_row:
            same = f"the same email and phone as row {phone_row}"
        elif phone_row is None:
            same = f"the same email as row {email_row}"
        elif email_row is None:
            same = f"the same phone as row {phone_row}"
        else:
            same = f"the same email as row {email_row} and the same phone as row {phone_row}"
        column = self.mapping.email_column if email_row is not None else self.mapping.phone_column
        return Problem(
            row,
            column,
            ProblemCode.DUPLICATE_CONTACT,
            Severity.WARNING,
            f"Duplicate contact: {same}. It is not added again; the row is kept as read.",
        )
