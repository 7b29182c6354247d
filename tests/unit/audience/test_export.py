"""Formula neutralisation in exports, reversible on import."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.audience.columns import map_columns
from herald.domain.audience.export import (
    csv_chunks,
    export_header,
    export_row,
    neutralise_cell,
    restore_cell,
)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+12025550101", "'+12025550101"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("'plain", "'plain"),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(value: str, written: str) -> None:
    assert neutralise_cell(value) == written
    assert restore_cell(written) == value


@given(st.text(alphabet=st.sampled_from("'=+-@\t\rab"), max_size=8) | st.text(max_size=8))
def test_restore_undoes_neutralise(value: str) -> None:
    written = neutralise_cell(value)
    assert restore_cell(written) == value
    assert not written.lstrip("'").startswith(("=", "+", "-", "@", "\t", "\r")) or (
        written.startswith("'")
    )


def test_export_header_keeps_headers_that_map_back_to_the_same_variable() -> None:
    mapping = map_columns(("E-mail", "Appointment Date", "", "%", "=cmd"))
    assert export_header(mapping.custom_fields) == [
        "phone",
        "email",
        "Appointment Date",
        "column_3",
        "column_4",
        "'=cmd",
    ]


def test_csv_is_utf8_with_bom_crlf_and_quoted_where_needed() -> None:
    rows = [export_row("+12025550101", None, ["Li, Wei", 'say "hi"', "two\nlines"])] * 1001
    text = "".join(csv_chunks(["phone", "email", "a", "b", "c"], rows))
    assert text.startswith("\ufeffphone,email,a,b,c\r\n")
    first = text.split("\r\n")[1]
    assert first.startswith('\'+12025550101,,"Li, Wei","say ""hi""","two\nlines"')
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert len(parsed) == 1002
