"""Row numbers, delimiters, quoting and original text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.audience.reader import SpreadsheetReader, detect_delimiter

from .helpers import check_bytes, flagged


def read(data: bytes) -> tuple[SpreadsheetReader, list[tuple[int, list[str], str, str | None]]]:
    reader = SpreadsheetReader([data])
    return reader, [(r.row, r.fields, r.original, r.quote_error) for r in reader.records()]


def test_row_numbers_are_what_a_spreadsheet_shows() -> None:
    data = b'email,note\r\na@x.com,one\r\n\r\nb@x.com,"two\r\nlines"\r\n   \r\n,,\r\nc@x.com,three'
    reader, records = read(data)
    assert reader.header == ("email", "note") and reader.header_row == 1
    assert [(row, fields) for row, fields, _, _ in records] == [
        (2, ["a@x.com", "one"]),
        (4, ["b@x.com", "two\r\nlines"]),
        (7, ["c@x.com", "three"]),
    ]
    assert reader.blank_rows == 3  # row 3 empty, row 5 spaces, row 6 only delimiters


def test_blank_lines_before_the_header_count_as_rows() -> None:
    reader, records = read(b"\n\nemail\na@x.com\n")
    assert reader.header_row == 3
    assert records[0][0] == 4


def test_original_text_is_kept_exactly_without_the_line_break() -> None:
    _, records = read(b'email,note\r\na@x.com, "quoted, with comma" \r\n')
    assert records[0][2] == 'a@x.com, "quoted, with comma" '


def test_old_mac_line_ends() -> None:
    reader, records = read(b"email,phone\ra@x.com,+33612345678\rb@x.com,\r")
    assert reader.line_separator == "\r"
    assert [r[1] for r in records] == [["a@x.com", "+33612345678"], ["b@x.com", ""]]


def test_cells_keep_characters_that_splitlines_would_break_on() -> None:
    _, records = read("email,note\na@x.com,a\x0bb\x1cc\u2028d\x85e\n".encode())
    assert records[0][1] == ["a@x.com", "a\x0bb\x1cc\u2028d\x85e"]


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("email,phone,name\na,b,c\n", ","),
        ("email;phone;name\na;b;c\n", ";"),
        ("email\tphone\tname\na\tb\tc\n", "\t"),
        ('"Name, full";email;phone\n"Doe, J";a@x.com;1\n', ";"),
        ("name;note\nAlex;a, b, c, d\nSam;e, f\n", ";"),
        ("email\na@x.com\n", ","),
        ("email,phone\na@x.com,1\nb@x.com,2\nc@x.com,3,4", ","),
    ],
)
def test_delimiter_is_detected_from_the_first_rows(text: str, delimiter: str) -> None:
    assert detect_delimiter(text) == delimiter


def test_text_after_a_closing_quote_rejects_the_row_only() -> None:
    _check, outcomes = check_bytes(b'email,name\na@x.com,"Doe" J\nb@x.com,Sam\n')
    assert flagged(outcomes) == [(2, None, "broken_quotes", "error")]
    assert [str(o.status) for o in outcomes] == ["rejected", "added"]
    assert outcomes[0].original == 'a@x.com,"Doe" J'
    assert outcomes[1].row == 3


def test_a_quote_never_closed_rejects_its_row_and_keeps_the_rest_as_its_text() -> None:
    _, outcomes = check_bytes(b'email,name\na@x.com,Sam\nb@x.com,"Doe\nc@x.com,Lee\n')
    assert flagged(outcomes) == [(3, None, "broken_quotes", "error")]
    assert "never closed" in outcomes[1].problems[0].message
    assert outcomes[1].original == 'b@x.com,"Doe\nc@x.com,Lee'


def test_a_runaway_quote_over_a_huge_cell_is_unreadable() -> None:
    from herald.errors import UnreadableFileError

    data = b'email,name\na@x.com,"Doe\n' + b"x" * 200_000 + b"\n"
    with pytest.raises(UnreadableFileError, match="Row 2 has a cell longer"):
        check_bytes(data)


def test_a_broken_header_is_unreadable() -> None:
    from herald.errors import UnreadableFileError

    with pytest.raises(UnreadableFileError, match="header"):
        check_bytes(b'"email"x,phone\na@x.com,1\n')


def test_row_count_is_estimated_from_the_first_chunk() -> None:
    data = b"email,phone\n" + b"someone@example.com,+12025550101\n" * 10_000
    reader = SpreadsheetReader([data[:65_536], data[65_536:]])
    assert 9_000 < reader.estimate_rows(len(data)) < 11_000


def reference_records(text: str, delimiter: str) -> list[tuple[int, list[str], str, bool]]:
    """Records as a plain line-by-line reading gives them: the parser fed one line
    at a time, each record's text being the lines it consumed."""
    import csv

    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    consumed: list[str] = []

    def remember() -> Iterator[str]:
        for line in lines:
            consumed.append(line)
            yield line

    parser = csv.reader(remember(), delimiter=delimiter, strict=True)
    records = []
    row = 0
    while True:
        broken = False
        try:
            fields = next(parser)
        except StopIteration:
            break
        except csv.Error:
            broken, fields = True, []
        row += 1
        original = "".join(consumed)
        consumed.clear()
        original = original[:-2] if original.endswith("\r\n") else original.removesuffix("\n")
        if not broken and (not fields or not "".join(fields).strip()):
            continue
        records.append((row, fields, original, broken))
    return records


LINES = st.lists(
    st.lists(
        st.sampled_from(["a", "b,c", '"q', 'q"', '"x,\ny"', '""', " ", "\r", "é"]), max_size=4
    ),
    max_size=12,
)


FILLER = "a@x.com,1\n" * 7000
"""Past the prefix that decides the encoding, chunks are decoded as they come."""


@settings(max_examples=200, deadline=None)
@given(LINES, st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_records_and_their_text_do_not_depend_on_chunking(
    lines: list[list[str]], cuts: list[int]
) -> None:
    text = "email,note\n" + FILLER + "".join(",".join(cells) + "\n" for cells in lines)
    data = text.encode()
    filler_bytes = len(FILLER) + 11
    chunks, start = [data[:filler_bytes]], filler_bytes
    for cut in cuts * (len(data) // sum(cuts) + 1):
        chunks.append(data[start : start + cut])
        start += cut
    reader = SpreadsheetReader(chunk for chunk in chunks if chunk)
    got = [(r.row, r.fields, r.original, r.quote_error is not None) for r in reader.records()]
    expected = reference_records(text, ",")
    assert got == expected[1:]  # the first record is the header
