"""One pass over an upload: read, validate, find duplicates, summarise.

Reading and duplicate detection run in order in the caller's process;
validation, the expensive part, goes through ``map_batches``: the built-in
``map`` by default, or any ordered, lazy map (a process pool) supplied by
the caller. Memory stays bounded by the batches in flight, whatever the
size of the file.

Two ways through: :meth:`AudienceCheck.outcomes` gives one
:class:`RowOutcome` per record (a check, a report); for an import,
:meth:`AudienceCheck.settled_batches` lets the workers also prepare each
batch for storage and settles whole batches in the reading process, which
then does only what needs every earlier row: duplicates, and the summary's
running counts. Both give the same statuses, problems and summary.

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
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import islice
from operator import attrgetter
from typing import Any, BinaryIO, Generic, NamedTuple, TypeVar, cast

import phonenumbers

from herald.domain.audience.batches import Batch, BatchVerdicts
from herald.domain.audience.columns import ColumnMapping, map_columns
from herald.domain.audience.duplicates import DuplicateIndex, Repeat
from herald.domain.audience.email_address import email_key
from herald.domain.audience.export import restore_cell
from herald.domain.audience.problems import Problem, ProblemCode, Severity
from herald.domain.audience.reader import RawRecord, SpreadsheetReader
from herald.domain.audience.summary import AudienceSummary, SummaryBuilder
from herald.domain.audience.validation import ValidationPlan, validate_batch
from herald.errors import ValidationError

BATCH_RECORDS = 2000

BatchFunction = Callable[[Batch], Any]
BatchMapper = Callable[[BatchFunction, Iterable[Batch]], Iterable[Any]]
"""An ordered, lazy ``map``: results come back in the order batches went in."""
Prepared = TypeVar("Prepared")
_ROW = attrgetter("row")


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


@dataclass(frozen=True)
class Duplicate:
    """A record that repeats an earlier contact (status ``duplicate``)."""

    position: int
    """Its place in its batch."""
    row: int
    duplicate_of: int
    original: str
    problem: Problem


@dataclass(frozen=True)
class SettledBatch(Generic[Prepared]):
    """A batch once duplicates are known: what the batch function prepared for it,
    and its duplicates in row order. Every other record is a contact unless its
    verdict rejected it."""

    prepared: Prepared
    duplicates: list[Duplicate]


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


def _email_key(email: str) -> str:
    return email_key(email) if email else ""


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
        size_hint: int | None = None,
    ) -> None:
        """``size_hint`` (the file's size in bytes, when known) lets memory for
        duplicate detection be reserved once instead of grown."""
        region = checked_region(default_region)
        self.reader = SpreadsheetReader(source)
        header = tuple(restore_cell(text) for text in self.reader.header)
        self.mapping: ColumnMapping = map_columns(header, header_row=self.reader.header_row)
        self.plan = ValidationPlan(self.mapping, region, self.reader.delimiter)
        self._map_batches = map_batches
        self._batch_records = batch_records
        self._builder = SummaryBuilder(self.mapping)
        expected = 0 if size_hint is None else self.reader.estimate_rows(size_hint)
        self._index = DuplicateIndex(expected)
        self._variables = [(f.variable, f.index) for f in self.mapping.custom_fields]

    def outcomes(self) -> Iterator[RowOutcome]:
        pending: deque[list[RawRecord]] = deque()
        validate = functools.partial(validate_batch, self.plan)
        for verdicts in self._map_batches(validate, self._batches(pending)):
            phones, emails = verdicts.columns()
            problems, rejected = verdicts.problems, verdicts.rejected
            for position, record in enumerate(pending.popleft()):
                if position in rejected:
                    yield self._reject(record, problems[position])
                else:
                    found = problems.get(position, ())
                    phone, email = phones[position] or None, emails[position] or None
                    yield self._settle(record, phone, email, found)

    def settled_batches(
        self, prepare: Callable[[Batch], tuple[BatchVerdicts, Prepared]]
    ) -> Iterator[SettledBatch[Prepared]]:
        """Each batch as ``prepare`` (a picklable function that validates with
        :func:`~herald.domain.audience.validation.checked_records`, typically in a
        worker process) left it, with its duplicates found; the summary follows."""
        pending: deque[list[RawRecord]] = deque()
        for result in self._map_batches(prepare, self._batches(pending)):
            verdicts, prepared = cast("tuple[BatchVerdicts, Prepared]", result)
            yield SettledBatch(prepared, self._settle_batch(pending.popleft(), verdicts))

    def _batches(self, pending: deque[list[RawRecord]]) -> Iterator[Batch]:
        records = map(_restored, self.reader.records())
        while batch := list(islice(records, self._batch_records)):
            pending.append(batch)
            yield Batch.of(batch)

    def _settle_batch(self, records: list[RawRecord], verdicts: BatchVerdicts) -> list[Duplicate]:
        """Duplicates and summary counts for a whole batch; per-row work only for
        the rows that need it (duplicates, problems, the contacts sampled)."""
        phones, emails = verdicts.columns()
        rejected = verdicts.rejected
        keys = list(map(_email_key, emails))
        repeats = self._index.claim_batch(list(map(_ROW, records)), phones, keys, rejected)
        builder = self._builder
        builder.records_read += len(records)
        builder.rejected_rows += len(rejected)
        builder.duplicates += len(repeats)
        for position, problems in verdicts.problems.items():
            if position not in rejected:
                for problem in problems:
                    builder.add_problem_severity(problem.severity)
        repeated = {repeat.position for repeat in repeats}
        builder.add_contacts(
            contacts=len(records) - len(rejected) - len(repeats),
            phones=len(phones) - phones.count("") - sum(1 for r in repeats if phones[r.position]),
            emails=len(emails) - emails.count("") - sum(1 for r in repeats if emails[r.position]),
            filled=verdicts.filled,
            not_contacts=[records[repeat.position].fields for repeat in repeats],
            fields=(
                record.fields
                for position, record in enumerate(records)
                if position not in rejected and position not in repeated
            ),
        )
        return [self._duplicate(records[repeat.position], repeat) for repeat in repeats]

    def _duplicate(self, record: RawRecord, repeat: Repeat) -> Duplicate:
        phone_row, email_row = repeat.phone_row, repeat.email_row
        return Duplicate(
            repeat.position,
            record.row,
            min(row for row in (phone_row, email_row) if row is not None),
            record.original,
            self._duplicate_problem(record.row, phone_row, email_row),
        )

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
        file_problems = (*self.mapping.notes, *self.encoding_problems())
        warnings = sum(1 for problem in file_problems if problem.severity is Severity.WARNING)
        built = self._builder.build(self.reader.blank_rows)
        return replace(built, warnings=built.warnings + warnings)

    def _reject(self, record: RawRecord, problems: tuple[Problem, ...]) -> RowOutcome:
        self._builder.records_read += 1
        self._builder.rejected_rows += 1
        return RowOutcome(record.row, RowStatus.REJECTED, None, None, {}, record.original, problems)

    def _settle(
        self,
        record: RawRecord,
        phone: str | None,
        email: str | None,
        problems: tuple[Problem, ...],
    ) -> RowOutcome:
        builder = self._builder
        builder.records_read += 1
        for problem in problems:
            builder.add_problem_severity(problem.severity)
        key = None if email is None else email_key(email)
        phone_row, email_row = self._index.claim(record.row, phone, key)
        if phone_row is None and email_row is None:
            fields = record.fields
            values = {variable: fields[index] for variable, index in self._variables}
            builder.add_contact(phone, email, values)
            return RowOutcome(
                record.row, RowStatus.ADDED, phone, email, values, record.original, problems
            )
        builder.duplicates += 1
        duplicate = self._duplicate_problem(record.row, phone_row, email_row)
        return RowOutcome(
            record.row,
            RowStatus.DUPLICATE,
            phone,
            email,
            {},
            record.original,
            (*problems, duplicate),
            min(row for row in (phone_row, email_row) if row is not None),
        )

    def _duplicate_problem(self, row: int, phone_row: int | None, email_row: int | None) -> Problem:
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
