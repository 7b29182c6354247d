"""Import → export → import keeps every contact and every field, awkward text included."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.audience.export import csv_chunks, export_header, export_row, restore_cell
from herald.domain.audience.pipeline import AudienceCheck, RowOutcome, RowStatus

AWKWARD = st.sampled_from(['"', "'", ",", ";", "\t", "\n", "\r", "=", "+", "-", "@", " ", "€"])
CELL_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | AWKWARD, max_size=12)
HEADER_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters=',;"\u0085'),
    max_size=10,
)


@st.composite
def audiences(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    headers = draw(st.lists(HEADER_TEXT, max_size=4))
    count = draw(st.integers(1, 12))
    rows = []
    for n in range(count):
        phone = f"+447400{n:06d}" if draw(st.booleans()) else ""
        email = f"Person.{n}@Example{n % 3}.COM" if not phone or draw(st.booleans()) else ""
        values = [draw(CELL_TEXT) for _ in headers]
        rows.append([email, phone, *values])
    return ["email", "phone", *headers], rows


def as_file(header: list[str], rows: list[list[str]], delimiter: str, encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def run(data: bytes) -> tuple[AudienceCheck, list[RowOutcome]]:
    check = AudienceCheck([data], default_region="GB")
    return check, list(check.outcomes())


def contacts(outcomes: list[RowOutcome]) -> list[tuple[str | None, str | None, dict[str, str]]]:
    return [(o.phone, o.email, o.values) for o in outcomes if o.status is RowStatus.ADDED]


@settings(max_examples=150, deadline=None)
@given(
    audiences(),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_import_export_import_keeps_every_contact_and_field(
    audience: tuple[list[str], list[list[str]]], delimiter: str, encoding: str
) -> None:
    header, rows = audience
    first_check, first = run(as_file(header, rows, delimiter, encoding))
    assert [o.status for o in first] == [RowStatus.ADDED] * len(rows)
    variables = first_check.mapping.variables
    for outcome, row in zip(first, rows, strict=True):
        assert outcome.values == {
            v: restore_cell(cell) for v, cell in zip(variables, row[2:], strict=True)
        }
        assert outcome.phone == (row[1] or None)
        assert (outcome.email or "").lower() == row[0].lower()

    exported = "".join(
        csv_chunks(
            export_header(first_check.mapping.custom_fields),
            (export_row(o.phone, o.email, [o.values[v] for v in variables]) for o in first),
        )
    )
    second_check, second = run(exported.encode("utf-8"))
    assert second_check.mapping.variables == variables
    assert contacts(second) == contacts(first)
