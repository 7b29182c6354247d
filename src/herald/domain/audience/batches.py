"""Batches of records on their way to validation workers, and their verdicts back.

Pickling a list of cells per record costs more than validating it: every
string is an object to write, remember and rebuild. So a batch travels as
one string, every cell joined by NUL (which never occurs in a cell: the
reader refuses any file that contains it), with the number of cells of each
record, and the records' original text likewise (so that workers can also
put each row in the form it is stored in); verdicts come back as NUL-joined
phones and emails. Most rows have no problem, so problems and rejections
are listed only for the rows that have them, by position in the batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from operator import attrgetter
from typing import NamedTuple

from herald.domain.audience.problems import Problem
from herald.domain.audience.reader import RawRecord

SEPARATOR = "\x00"
_ROW = attrgetter("row")
_FIELDS = attrgetter("fields")
_QUOTE_ERROR = attrgetter("quote_error")
_ORIGINAL = attrgetter("original")


class Batch(NamedTuple):
    rows: list[int]
    widths: list[int]
    cells: str
    quote_errors: dict[int, str]
    originals: str

    @classmethod
    def of(cls, records: Sequence[RawRecord]) -> Batch:
        # map/attrgetter keep the per-record work in C: this runs in the reading process.
        fields = list(map(_FIELDS, records))
        quote_errors = list(map(_QUOTE_ERROR, records))
        errors = {i: e for i, e in enumerate(quote_errors) if e} if any(quote_errors) else {}
        cells = SEPARATOR.join(chain.from_iterable(fields))
        originals = SEPARATOR.join(map(_ORIGINAL, records))
        return cls(list(map(_ROW, records)), list(map(len, fields)), cells, errors, originals)

    def records(self) -> Iterator[tuple[int, list[str], str | None]]:
        """(row, cells, quote error) of each record, in order."""
        flat = self.cells.split(SEPARATOR)
        start = 0
        errors = self.quote_errors
        for position, (row, width) in enumerate(zip(self.rows, self.widths, strict=True)):
            yield row, flat[start : start + width], errors.get(position)
            start += width

    def original_texts(self) -> list[str]:
        """Each record's text as read, in order."""
        return self.originals.split(SEPARATOR) if self.rows else []


class BatchVerdicts(NamedTuple):
    phones: str
    emails: str
    problems: dict[int, tuple[Problem, ...]]
    rejected: set[int]
    filled: tuple[int, ...] = ()
    """Per custom field (in mapping order), how many rows that are not rejected fill it."""

    @classmethod
    def of(
        cls,
        phones: list[str],
        emails: list[str],
        problems: dict[int, tuple[Problem, ...]],
        rejected: set[int],
        filled: tuple[int, ...] = (),
    ) -> BatchVerdicts:
        """``phones`` and ``emails`` hold ``""`` where there is no valid value."""
        return cls(SEPARATOR.join(phones), SEPARATOR.join(emails), problems, rejected, filled)

    def columns(self) -> tuple[list[str], list[str]]:
        """Phones and emails by position, ``""`` where there is no valid value."""
        return self.phones.split(SEPARATOR), self.emails.split(SEPARATOR)
