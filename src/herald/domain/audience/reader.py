"""Records out of a decoded spreadsheet: line splitting, delimiter detection, quoting.

Row numbers are what a spreadsheet program shows when it opens the file:
the first line is row 1, every record is one row even when a quoted cell
spans several lines, and blank lines are rows too (they are counted, then
skipped). The header is the first row that is not blank.

Parsing is strict about quotes: text after a closing quote (``"a"b``) or a
quote left open at the end of the file is reported on that row instead of
being silently repaired. Each record keeps the exact text it was read from,
so an import can store the original row.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import BinaryIO, NamedTuple

from herald.domain.audience.columns import contact_role
from herald.domain.audience.encoding import TextDecoder
from herald.errors import UnreadableFileError

CHUNK_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
SNIFF_LINES = 50
"""Lines of the first chunk used to choose the delimiter."""
MAX_LINE_CHARACTERS = 1024 * 1024
"""A line longer than this is refused: no spreadsheet row is, and reading one
whole would let a file without line breaks take memory without bound."""
MAX_COLUMNS = 1_000
"""A header with more columns is refused before any row is read."""


class RawRecord(NamedTuple):
    """One data row as read. ``quote_error`` is set when the row's quoting is broken."""

    row: int
    fields: list[str]
    original: str
    quote_error: str | None = None


def iter_chunks(source: Iterable[bytes] | BinaryIO, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Byte chunks from either an iterable of chunks or a binary stream."""
    read = getattr(source, "read", None)
    if read is None:
        yield from source
        return
    while chunk := read(size):
        yield chunk


class SpreadsheetReader:
    """Reads the header eagerly, then streams the data records on demand.

    Raises :class:`~herald.errors.UnreadableFileError` when the file is empty,
    binary, or has no row at all.
    """

    def __init__(self, source: Iterable[bytes] | BinaryIO) -> None:
        self._decoder = TextDecoder()
        texts = self._decoder.decode(iter_chunks(source))
        first = next(texts, "")
        self.line_separator = "\r" if "\n" not in first and "\r" in first else "\n"
        self._sample_lines = first.count(self.line_separator)
        self._sample_characters = len(first)
        self.delimiter = detect_delimiter(first)
        self.blank_rows = 0
        self._records = self._read(_split_lines(first, texts, self.line_separator))
        header = next(self._records, None)
        if header is None:
            raise UnreadableFileError("The file has no rows: it is empty or only blank lines.")
        if header.quote_error:
            raise UnreadableFileError(
                f"The header (row {header.row}) is broken: {header.quote_error}"
            )
        if len(header.fields) > MAX_COLUMNS:
            raise UnreadableFileError(
                f"The header (row {header.row}) has {len(header.fields):,} columns; Herald "
                f"reads at most {MAX_COLUMNS:,}. Keep the columns you need and upload again."
            )
        self.header_row = header.row
        self.header: tuple[str, ...] = tuple(header.fields)

    @property
    def encoding(self) -> str:
        return self._decoder.encoding

    @property
    def encoding_notice(self) -> str | None:
        """Set when the file switched encoding midway; final once records are exhausted."""
        return self._decoder.notice

    def estimate_rows(self, size_bytes: int) -> int:
        """Rows in a file of ``size_bytes`` with lines as long as its first chunk's."""
        if not self._sample_characters:
            return 0
        bytes_per_character = 2 if self.encoding.startswith("utf-16") else 1
        characters = size_bytes / bytes_per_character
        return int(characters * self._sample_lines / self._sample_characters)

    def records(self) -> Iterator[RawRecord]:
        """Data records after the header, blank rows skipped (but counted in ``blank_rows``)."""
        return self._records

    def _read(self, chunks: Iterator[list[str]]) -> Iterator[RawRecord]:
        """Records with their text. The parser takes lines straight from the chunks'
        lists; each record's text is found again from the parser's line count, so
        no Python code runs per line, only per record."""
        held: deque[list[str]] = deque()

        def hold(source: Iterator[list[str]]) -> Iterator[list[str]]:
            for lines in source:
                held.append(lines)
                yield lines

        parser = csv.reader(
            chain.from_iterable(hold(chunks)), delimiter=self.delimiter, strict=True
        )
        row = done = offset = 0  # lines read for earlier records; lines before held[0]
        while True:
            error = None
            try:
                fields = next(parser)
            except StopIteration:
                return
            except csv.Error as exc:
                error, fields = exc, []
            row += 1
            while offset + len(held[0]) <= done:
                offset += len(held.popleft())
            end = parser.line_num
            first, start = held[0], done - offset
            if end == done + 1 and start < len(first):
                text = first[start]  # the common record: one line
            else:
                text = "".join(islice(chain.from_iterable(held), start, end - offset))
            done = end
            original = _without_line_end(text)
            if error is not None:
                yield RawRecord(row, [], original, _explain(error, row))
                continue
            if not fields or (not fields[0].strip() and not "".join(fields).strip()):
                self.blank_rows += 1
                continue
            yield RawRecord(row, fields, original)


def _without_line_end(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith(("\n", "\r")):
        return text[:-1]
    return text


def _explain(exc: csv.Error, row: int) -> str:
    message = str(exc)
    if "field larger than field limit" in message:
        raise UnreadableFileError(
            f"Row {row} has a cell longer than {csv.field_size_limit()} characters: most "
            "likely a quote opened in that row is never closed. Fix the quotes and upload again."
        ) from exc
    if "unexpected end of data" in message:
        return (
            "a quote opened in this row is never closed, so everything up to the end of the "
            "file was read as one cell. Close the quote and upload again."
        )
    return (
        "a quoted cell has text after its closing quote. Quote the whole cell and double "
        'any quote inside it ("" stands for one quote), then upload again.'
    )


def _split_lines(first: str, rest: Iterator[str], separator: str) -> Iterator[list[str]]:
    """Lines with their terminators, a list per decoded chunk, across chunk boundaries.

    Splitting only on the one separator (``\\n``, which also ends ``\\r\\n``) keeps
    other characters that :meth:`str.splitlines` would break on inside cells.
    """
    carry = ""
    lines = 0
    for text in _prepend(first, rest):
        parts = (carry + text).split(separator)
        carry = parts.pop()
        if parts:
            _check_lines(parts, lines + 1)
            lines += len(parts)
            yield [part + separator for part in parts]
        _check_line_length(carry, lines + 1)
    if carry:
        yield [carry]


def _check_lines(lines: list[str], first_number: int) -> None:
    """Refuse the first of ``lines`` over the limit (numbered from ``first_number``)."""
    if max(map(len, lines)) > MAX_LINE_CHARACTERS:
        for offset, line in enumerate(lines):
            _check_line_length(line, first_number + offset)


def _check_line_length(line: str, number: int) -> None:
    if len(line) > MAX_LINE_CHARACTERS:
        raise UnreadableFileError(
            f"Line {number} is longer than {MAX_LINE_CHARACTERS:,} characters: the file has "
            "no line breaks where rows should end, or is not a spreadsheet. Export it "
            "again as CSV and upload again."
        )


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def detect_delimiter(text: str) -> str:
    """Comma, semicolon or tab: the one that splits the first rows most sensibly.

    Each candidate parses the first lines. It scores first by whether the
    header it yields has a phone or email column, then by how many rows have
    as many fields as the header, then by the header's field count. A header
    with a single column (no candidate splits it) reads as comma-separated.
    """
    lines = text.splitlines(keepends=True)[:SNIFF_LINES]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines.pop()  # the last line of the chunk may be cut short
    sample = "".join(lines)
    best, best_score = ",", (False, 0, 0)
    for delimiter in DELIMITERS:
        score = _delimiter_score(sample, delimiter)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _delimiter_score(sample: str, delimiter: str) -> tuple[bool, int, int]:
    try:
        rows = [row for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row]
    except csv.Error:
        return (False, 0, 0)
    if not rows or len(rows[0]) < 2:
        return (False, 0, 0)
    width = len(rows[0])
    has_contact = any(contact_role(cell) is not None for cell in rows[0])
    return (has_contact, sum(1 for row in rows if len(row) == width), width)
