"""Hostile spreadsheets: always a clear error or a report, never a crash or unbounded memory.

Random bytes, CSV text in several encodings with quotes, delimiters and
line breaks anywhere, giant cells, a file without line breaks, thousands
of columns and the same row repeated: :class:`AudienceCheck` either refuses
the file with a :class:`~herald.errors.HeraldError` whose message names the
problem, or reads every row into a report. Memory is measured with
``tracemalloc`` on streams that are never held whole in memory.
"""

from __future__ import annotations

import io
import os
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herald.domain.audience.pipeline import AudienceCheck, RowStatus
from herald.domain.audience.reader import MAX_COLUMNS, MAX_LINE_CHARACTERS
from herald.errors import HeraldError, UnreadableFileError

pytestmark = [pytest.mark.reliability]
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    # Fixed examples in every test run and CI (no flaky surprises); fresh ones in --full.
    derandomize=os.environ.get("HERALD_RELIABILITY") != "full",
)
MEMORY_CEILING_BYTES = 24 * 1024 * 1024
CELL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from(['"', ",", ";", "\t", "\n", "\r", "=", "+", "@", "\x00", "\ufeff"]),
    max_size=30,
)
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1")


def _read_all(source: io.BytesIO | Iterable[bytes]) -> tuple[Counter[RowStatus], int]:
    """Statuses of every row and the number of problems reported; or a HeraldError."""
    check = AudienceCheck(source, default_region="US")
    statuses: Counter[RowStatus] = Counter()
    problems = 0
    for outcome in check.outcomes():
        statuses[outcome.status] += 1
        problems += len(outcome.problems)
        assert all(problem.message for problem in outcome.problems)
    summary = check.summary()
    # The report adds up: every row read is counted exactly once.
    assert summary.records_read == sum(statuses.values())
    assert summary.rejected_rows == statuses[RowStatus.REJECTED]
    assert summary.duplicates == statuses[RowStatus.DUPLICATE]
    return statuses, problems


def _refused_or_read(source: io.BytesIO | Iterable[bytes]) -> None:
    try:
        _read_all(source)
    except HeraldError as error:
        assert error.message.strip(), "a refusal must say what is wrong"


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_are_refused_or_read(data: bytes) -> None:
    _refused_or_read(io.BytesIO(data))


@FUZZ
@given(
    header=st.lists(
        st.sampled_from(["email", "phone", "name", "E-mail", "Mobile", ""]) | CELL,
        min_size=1,
        max_size=6,
    ),
    rows=st.lists(st.lists(CELL, max_size=8), max_size=25),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    quote_all=st.booleans(),
    encoding=st.sampled_from(ENCODINGS),
)
def test_generated_spreadsheets_are_refused_or_read(
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
    quote_all: bool,
    encoding: str,
) -> None:
    def line(cells: list[str]) -> str:
        if quote_all:
            return delimiter.join('"' + cell.replace('"', '""') + '"' for cell in cells)
        return delimiter.join(cells)

    text = "\n".join(line(cells) for cells in [header, *rows]) + "\n"
    _refused_or_read(io.BytesIO(text.encode(encoding, errors="replace")))


def _measured(read: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        try:
            result: object = read()
        except HeraldError as error:
            result = error
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _stream(first: bytes, repeated: bytes, times: int) -> Iterator[bytes]:
    """A file that is never whole in memory: ``first`` then ``repeated`` ``times`` times."""
    yield first
    for _ in range(times):
        yield repeated


def test_a_file_without_line_breaks_is_refused_in_bounded_memory() -> None:
    # 64 MB of one endless line, streamed in 64 KB chunks.
    result, peak = _measured(lambda: _read_all(_stream(b"email,phone\n", b"a" * 65536, 1024)))
    assert isinstance(result, UnreadableFileError)
    assert f"Line 2 is longer than {MAX_LINE_CHARACTERS:,} characters" in result.message
    assert peak < MEMORY_CEILING_BYTES


def test_a_giant_quoted_cell_is_refused_naming_its_row() -> None:
    body = b'email,phone,note\nann@example.com,+12025550101,"' + b"x" * 600_000 + b"\n" * 3
    result, peak = _measured(lambda: _read_all(io.BytesIO(body)))
    assert isinstance(result, UnreadableFileError)
    assert "Row 2 has a cell longer than" in result.message
    assert peak < MEMORY_CEILING_BYTES


def test_thousands_of_columns_are_refused_before_any_row() -> None:
    header = ",".join(["email", *(f"c{index}" for index in range(5_000))]).encode()
    result, _peak = _measured(lambda: _read_all(io.BytesIO(header + b"\nann@example.com\n")))
    assert isinstance(result, UnreadableFileError)
    assert f"has 5,001 columns; Herald reads at most {MAX_COLUMNS:,}" in result.message


def test_one_row_repeated_is_read_as_duplicates_in_bounded_memory() -> None:
    row = b"ann@example.com,+12025550101,Ann\n"
    result, peak = _measured(lambda: _read_all(_stream(b"email,phone,name\n", row * 1000, 20)))
    assert isinstance(result, tuple)
    statuses, _problems = result
    assert statuses == Counter({RowStatus.ADDED: 1, RowStatus.DUPLICATE: 19_999})
    assert peak < MEMORY_CEILING_BYTES
