"""Row rules: codes, severities, kept or rejected."""

from __future__ import annotations

import pytest

from herald.domain.audience.validation import is_formula_like

from .helpers import check_bytes, flagged

HEADER = "email;phone;name\r\n"


def rows(*lines: str, region: str = "US") -> list[tuple[int | None, str | None, str, str]]:
    _, outcomes = check_bytes((HEADER + "\r\n".join(lines) + "\r\n").encode(), region)
    return flagged(outcomes)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("a@example.com;+12025550101;A", [], id="valid"),
        pytest.param(";;A", [(2, None, "no_contact", "error")], id="no contact"),
        pytest.param("  ;  ;A", [(2, None, "no_contact", "error")], id="blank contacts"),
        pytest.param(";+12025550101;A", [], id="phone only"),
        pytest.param("a@example.com;;A", [], id="email only"),
        pytest.param(
            "a@example.com;12345;A", [(2, "phone", "phone_invalid", "warning")], id="bad phone"
        ),
        pytest.param(
            "nope;+12025550101;A", [(2, "email", "email_invalid", "warning")], id="bad email"
        ),
        pytest.param(
            "nope;12345;A",
            [(2, "phone", "phone_invalid", "error"), (2, "email", "email_invalid", "error")],
            id="both bad",
        ),
        pytest.param(
            ";12345;A", [(2, "phone", "phone_invalid", "error")], id="bad phone, no email"
        ),
        pytest.param(
            '"a@example.com, b@example.com";+12025550101;A',
            [(2, "email", "multiple_values", "warning")],
            id="two emails",
        ),
        pytest.param(
            "a@example.com;+12025550101 / +12025550102;A",
            [(2, "phone", "multiple_values", "warning")],
            id="two phones",
        ),
        pytest.param(
            "a@example.com;202-555-0188 x12;A",
            [(2, "phone", "phone_extension", "warning")],
            id="extension",
        ),
        pytest.param(
            "a@example.com;+12025550101;A;extra",
            [(2, None, "field_count", "error")],
            id="too many cells",
        ),
        pytest.param(
            "a@example.com;+12025550101", [(2, None, "field_count", "error")], id="too few"
        ),
        pytest.param("a@example.com;+12025550101;A;;", [], id="empty cells past the header"),
        pytest.param(
            "a@example.com;+12025550101;=SUM(A1)",
            [(2, "name", "formula_like", "warning")],
            id="formula",
        ),
        pytest.param(
            "a@example.com;4.42071838750E+11;A",
            [(2, "phone", "phone_invalid", "warning")],
            id="scientific notation",
        ),
    ],
)
def test_row_rules(line: str, expected: list[tuple[int, str | None, str, str]]) -> None:
    assert rows(line) == expected


def test_messages_say_what_is_wrong_and_what_to_do() -> None:
    _, outcomes = check_bytes(
        (HEADER + "a@example.com;4.42071838750E+11;A\r\na@b.com;020 7183 8750;B\r\n").encode()
    )
    assert "scientific notation" in outcomes[0].problems[0].message
    assert "no country code" in outcomes[1].problems[0].message
    assert "default region" in outcomes[1].problems[0].message


def test_split_cell_with_an_extra_cell_names_where_the_shift_starts() -> None:
    _, outcomes = check_bytes(
        b"email;phone;name\r\na@example.com; b@example.com;+12025550101;Ann\r\n"
    )
    problem = outcomes[0].problems[0]
    assert (problem.column, str(problem.code)) == ("phone", "field_count")
    assert "4 cells but the header has 3" in problem.message
    assert "semicolon" in problem.message


def test_split_phone_cell_shifts_into_the_email_column() -> None:
    _, outcomes = check_bytes(b"phone,email,name\r\n+12025550101, +12025550102,a@example.com\r\n")
    assert flagged(outcomes) == [(2, "email", "shifted_columns", "error")]


def test_swapped_values_are_not_taken_for_a_shift() -> None:
    _, outcomes = check_bytes(b"email,phone,name\r\n+12025550101,a@example.com,Ann\r\n")
    assert [code for _, _, code, _ in flagged(outcomes)] == ["phone_invalid", "email_invalid"]


def test_leading_and_trailing_spaces_around_contacts_are_not_problems() -> None:
    _, outcomes = check_bytes(b"email,phone\r\n  A@Example.COM , +1 202 555 0101 \r\n")
    assert (outcomes[0].email, outcomes[0].phone) == ("A@example.com", "+12025550101")
    assert outcomes[0].problems == ()


def test_duplicates_are_found_case_insensitively_and_across_formats() -> None:
    _, outcomes = check_bytes(
        b"email,phone\r\n"
        b"a@example.com,+12025550101\r\n"
        b"A@EXAMPLE.com,\r\n"
        b",(202) 555-0101\r\n"
        b"b@example.com,+12025550102\r\n"
        b"b@example.com,+12025550101\r\n"
        b"c@example.com,+12025550103\r\n"
    )
    assert [(o.row, str(o.status), o.duplicate_of) for o in outcomes] == [
        (2, "added", None),
        (3, "duplicate", 2),
        (4, "duplicate", 2),
        (5, "added", None),
        (6, "duplicate", 2),
        (7, "added", None),
    ]
    assert "the same email as row 5 and the same phone as row 2" in outcomes[4].problems[0].message


def test_a_duplicate_row_does_not_claim_its_new_values() -> None:
    _, outcomes = check_bytes(
        b"email,phone\r\na@example.com,+12025550101\r\n"
        b"new@example.com,+12025550101\r\nnew@example.com,+12025550109\r\n"
    )
    assert [str(o.status) for o in outcomes] == ["added", "duplicate", "added"]


def test_rejected_rows_are_not_duplicate_checked() -> None:
    _, outcomes = check_bytes(b"email,phone,x\r\na@example.com,1,y,z\r\na@example.com,,y\r\n")
    assert [str(o.status) for o in outcomes] == ["rejected", "added"]


def test_an_apostrophe_escape_from_an_export_is_undone_on_import() -> None:
    _, outcomes = check_bytes(b"email,phone,note\r\na@example.com,'+12025550101,'=1+2\r\n")
    assert outcomes[0].phone == "+12025550101"
    assert outcomes[0].values == {"note": "=1+2"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", True),
        ("@SUM(A1)", True),
        ("+cmd|' /C calc'!A0", True),
        ("-2+3", False),
        ("-5", False),
        ("+44 20 7183 8750", False),
        ("-", False),
        ("plain", False),
        ("-x", True),
    ],
)
def test_formula_like_cells(value: str, expected: bool) -> None:
    assert is_formula_like(value) is expected
