"""What an import stores is what the row-by-row check says, whatever the batches.

The import prepares rows in workers and settles duplicates batch by batch
(:meth:`AudienceCheck.settled_batches`); the check walks the records one by
one (:meth:`AudienceCheck.outcomes`). Generated files with duplicates,
invalid values, quoting, formula-like and escaped cells, blank lines and
wrong cell counts must come out the same both ways, in both stored forms.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.audience.email_address import email_key
from herald.domain.audience.pipeline import AudienceCheck, RowOutcome, RowStatus
from herald.services.audience_preparation import FlatJson, RowTarget, prepare_batch
from herald.services.audience_writer import batch_rows
from herald.store.audience_rows import copy_line, problem_row

AUDIENCE = 7
EMAILS = ["ann@example.com", "ANN@example.com", "bo@example.org", "bad@", "a@x.com; b@y.com", ""]
PHONES = ["+447400123456", "+44 7400 123456", "(201) 555-0123", "12345", "+1 202 555 01", ""]
CELLS = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x3FF), max_size=8
) | (st.sampled_from(["=1+2", "'=x", "-", "a\tb", "back\\slash", "line\nbreak", "\b", 'say "hi"']))


@st.composite
def spreadsheets(draw: st.DrawFn) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\r\n", "\n"])))
    writer.writerow(["email", "phone", "name", "notes"])
    for _ in range(draw(st.integers(0, 25))):
        shape = draw(st.sampled_from(["row"] * 6 + ["blank", "short", "long"]))
        if shape == "blank":
            out.write("\n")
            continue
        row = [draw(st.sampled_from(EMAILS)), draw(st.sampled_from(PHONES)), draw(CELLS)]
        row.append(draw(CELLS))
        writer.writerow(row[:2] if shape == "short" else [*row, "x"] if shape == "long" else row)
    return out.getvalue().encode()


def expected_rows(outcomes: list[RowOutcome]) -> tuple[list[Any], list[Any], list[Any]]:
    """The rows as stored row by row from the check's outcomes."""
    contacts, excluded, problems = [], [], []
    for o in outcomes:
        if o.status is RowStatus.ADDED:
            key = None if o.email is None else email_key(o.email)
            values = json.dumps(o.values, ensure_ascii=False, separators=(",", ":"))
            contacts.append((AUDIENCE, o.row, o.phone, o.email, key, values, o.original))
        else:
            excluded.append((AUDIENCE, o.row, str(o.status), o.duplicate_of, o.original))
        problems.extend(problem_row(AUDIENCE, p) for p in o.problems)
    return contacts, excluded, problems


@settings(max_examples=150, deadline=None)
@given(spreadsheets(), st.integers(1, 7), st.booleans())
def test_prepared_batches_store_what_the_check_reports(
    data: bytes, batch_records: int, as_copy_text: bool
) -> None:
    check = AudienceCheck([data], default_region="US")
    outcomes = list(check.outcomes())
    contacts, excluded, problems = expected_rows(outcomes)

    imported = AudienceCheck([data], default_region="US", batch_records=batch_records)
    target = RowTarget(AUDIENCE, as_copy_text=as_copy_text)
    prepare = functools.partial(prepare_batch, imported.plan, target)
    stored: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    for settled in imported.settled_batches(prepare):
        for table, rows in zip(stored, batch_rows(settled, target), strict=True):
            table.extend(rows)

    form = copy_line if as_copy_text else tuple
    assert stored == tuple([form(row) for row in rows] for rows in (contacts, excluded, problems))
    assert imported.summary() == check.summary()


@given(st.dictionaries(st.text(), st.text()))
def test_flat_json_is_the_same_text_as_json_dumps(values: dict[str, str]) -> None:
    encoded = FlatJson(list(values)).encode_values(values.values())
    assert encoded == json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(encoded) == values


def test_copy_lines_escape_what_copy_reads_as_escapes() -> None:
    assert copy_line((1, None, "plain", "")) == "1\t\\N\tplain\t\n"
    assert copy_line(("a\tb\\c\nd\re", "\b\v\f", None)) == "a\\tb\\\\c\\nd\\re\t\\b\\v\\f\t\\N\n"
