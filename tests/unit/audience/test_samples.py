"""The expected handling of every sample file, pinned row by row."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.domain.audience.pipeline import AudienceCheck, RowOutcome

from .helpers import flagged


def run(path: Path, region: str = "US") -> tuple[AudienceCheck, list[RowOutcome]]:
    with path.open("rb") as stream:
        check = AudienceCheck(stream, default_region=region)
        return check, list(check.outcomes())


def statuses(outcomes: list[RowOutcome]) -> dict[int, str]:
    return {outcome.row: str(outcome.status) for outcome in outcomes}


def test_seed_example_flags_the_too_long_phone_and_keeps_the_row(samples_dir: Path) -> None:
    check, outcomes = run(samples_dir / "seed-example.csv")
    assert check.mapping.phone_column == "phone" and check.mapping.email_column == "email"
    assert check.mapping.variables == ("name", "appointment_date")
    assert statuses(outcomes) == {2: "added", 3: "added", 4: "added"}
    assert flagged(outcomes) == [(4, "phone", "phone_invalid", "warning")]
    priya = outcomes[2]
    assert (priya.phone, priya.email) == (None, "priya@example.in")
    assert "+122233344555" in priya.problems[0].message
    assert "too long" in priya.problems[0].message
    assert [o.phone for o in outcomes[:2]] == ["+12025550101", "+442071838750"]
    summary = check.summary()
    assert (summary.records_read, summary.valid_contacts, summary.warnings) == (3, 3, 1)
    assert (summary.phones_available, summary.emails_available) == (2, 3)


MESSY_COMMON = [
    (4, None, "no_contact", "error"),
    (5, "Phone Number", "phone_invalid", "warning"),
    (6, "E-mail", "duplicate_contact", "warning"),
    (7, "Phone Number", "shifted_columns", "error"),
    (8, "E-mail", "email_invalid", "warning"),
    (9, "E-mail", "email_invalid", "warning"),
    (9, "Full Name", "formula_like", "warning"),
]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        pytest.param(
            "GB",
            [*MESSY_COMMON, (11, "Phone Number", "phone_invalid", "warning")],
            id="GB: the UK number is valid, the US one with extension is not",
        ),
        pytest.param(
            "US",
            [
                (3, "Phone Number", "phone_invalid", "warning"),
                *MESSY_COMMON,
                (11, "Phone Number", "phone_extension", "warning"),
            ],
            id="US: the national UK number is not valid, the extension is flagged",
        ),
    ],
)
def test_messy_export_flags_every_problem_with_row_and_column(
    samples_dir: Path, region: str, expected: list[tuple[int | None, str | None, str, str]]
) -> None:
    check, outcomes = run(samples_dir / "messy-excel-export.csv", region)
    assert (check.reader.encoding, check.reader.delimiter) == ("utf-8-sig", ";")
    assert sorted(flagged(outcomes), key=lambda f: (f[0], f[1] or "")) == sorted(
        expected, key=lambda f: (f[0], f[1] or "")
    )
    assert statuses(outcomes) == {
        2: "added",
        3: "added",
        4: "rejected",
        5: "added",
        6: "duplicate",
        7: "rejected",
        8: "added",
        9: "added",
        10: "added",
        11: "added",
        13: "added",  # row 12 is the blank line
    }


def test_messy_export_normalises_values_and_keeps_the_originals(samples_dir: Path) -> None:
    check, outcomes = run(samples_dir / "messy-excel-export.csv", "GB")
    by_row = {outcome.row: outcome for outcome in outcomes}
    assert check.mapping.variables == ("full_name", "plan", "appointment_date", "notes")
    assert (by_row[2].email, by_row[2].phone) == ("ALEX@example.com", "+12025550101")
    assert by_row[3].phone == "+442071838750"
    assert by_row[8].phone == "+4930901820" and by_row[8].email is None
    assert by_row[9].values["full_name"] == "=1+2"
    assert by_row[10].values["full_name"] == "Li, Wei"
    assert by_row[10].values["notes"] == "note with\r\na newline inside quotes"
    assert by_row[10].original.count("\n") == 1  # one row spanning two lines
    assert by_row[13].phone == "+233302664000"
    assert by_row[2].original == "ALEX@Example.com ;+1 (202) 555-0101;Alex Doe;gold;2024-09-12;"
    assert by_row[7].original.startswith("maria@example.es; maria.alt@example.es;")
    summary = check.summary()
    assert summary.records_read == 11
    assert (summary.valid_contacts, summary.rejected_rows, summary.duplicates) == (8, 2, 1)
    assert summary.blank_rows == 1
    notes = summary.custom_fields[3]
    assert (notes.variable, notes.filled, notes.fill_rate) == ("notes", 6, 0.75)


def test_messy_export_duplicate_names_the_row_it_repeats(samples_dir: Path) -> None:
    _, outcomes = run(samples_dir / "messy-excel-export.csv", "GB")
    duplicate = next(o for o in outcomes if o.row == 6)
    assert duplicate.duplicate_of == 2
    assert "the same email and phone as row 2" in duplicate.problems[-1].message
    assert duplicate.original.startswith("alex@example.com;+12025550101;Alex Duplicate")


def test_messy_export_explains_the_shift_and_the_fix(samples_dir: Path) -> None:
    _, outcomes = run(samples_dir / "messy-excel-export.csv", "GB")
    shifted = next(o for o in outcomes if o.row == 7)
    message = shifted.problems[0].message
    assert "E-mail cell seems split in two" in message
    assert "maria.alt@example.es" in message
    assert "upload again" in message
    assert len(shifted.problems) == 1


def test_latin1_sample_keeps_accents(samples_dir: Path) -> None:
    check, outcomes = run(samples_dir / "latin1-encoded.csv")
    assert check.reader.encoding == "cp1252"
    assert [o.values for o in outcomes] == [
        {"name": "José Núñez", "city": "Málaga"},
        {"name": "François Pérez", "city": "Besançon"},
    ]
    assert flagged(outcomes) == []
    assert [o.phone for o in outcomes] == ["+34612345679", "+33612345678"]
