"""Importing, storing, paging, copying and exporting audiences, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from herald.domain.audience.pipeline import AudienceCheck
from herald.errors import ConflictError, NotFoundError, UnreadableFileError, ValidationError
from herald.services import audiences
from herald.store import audiences as store
from herald.store.audiences import CONTACTS, EXCLUDED_ROWS, PROBLEMS
from herald.testing import FakeClock


def import_messy(engine: Engine, samples_dir: Path, clock: FakeClock) -> audiences.ImportedAudience:
    return audiences.import_audience(
        engine,
        samples_dir / "messy-excel-export.csv",
        name="Messy",
        clock=clock,
        default_region="GB",
    )


def test_import_stores_every_row_once_with_its_original(engine: Engine, samples_dir: Path) -> None:
    clock = FakeClock()
    imported = import_messy(engine, samples_dir, clock)
    audience = imported.audience
    assert (audience.name, audience.source_filename) == ("Messy", "messy-excel-export.csv")
    assert audience.uploaded_at == clock.now()
    assert (audience.encoding, audience.delimiter, audience.default_region) == (
        "utf-8-sig",
        ";",
        "GB",
    )
    assert audience.header[0] == "E-mail"
    assert audience.column_mapping["phone"] == "Phone Number"
    assert audience.summary == imported.summary.as_dict()
    contacts = audiences.list_contacts(engine, audience.id)
    assert [c.row_number for c in contacts] == [2, 3, 5, 8, 9, 10, 11, 13]
    li = contacts[5]
    assert (li.phone, li.email) == ("+861065529988", "li@example.cn")
    assert li.fields["notes"] == "note with\r\na newline inside quotes"
    assert li.original == (
        'li@example.cn;+86 10 6552 9988;"Li, Wei";silver;2024-09-20;'
        '"note with\r\na newline inside quotes"'
    )
    with engine.connect() as connection:
        excluded = connection.execute(
            select(
                EXCLUDED_ROWS.c.row_number, EXCLUDED_ROWS.c.status, EXCLUDED_ROWS.c.duplicate_of_row
            )
            .where(EXCLUDED_ROWS.c.audience_id == audience.id)
            .order_by(EXCLUDED_ROWS.c.row_number)
        ).all()
    assert [tuple(row) for row in excluded] == [
        (4, "rejected", None),
        (6, "duplicate", 2),
        (7, "rejected", None),
    ]


def test_problems_are_stored_and_paged(engine: Engine, samples_dir: Path) -> None:
    audience = import_messy(engine, samples_dir, FakeClock()).audience
    first = audiences.list_problems(engine, audience.id, limit=3)
    rest = audiences.list_problems(engine, audience.id, after_id=first[-1].id, limit=100)
    problems = [(p.row_number, p.column, p.code, p.severity) for p in first + rest]
    assert problems == [
        (4, None, "no_contact", "error"),
        (5, "Phone Number", "phone_invalid", "warning"),
        (6, "E-mail", "duplicate_contact", "warning"),
        (7, "Phone Number", "shifted_columns", "error"),
        (8, "E-mail", "email_invalid", "warning"),
        (9, "E-mail", "email_invalid", "warning"),
        (9, "Full Name", "formula_like", "warning"),
        (11, "Phone Number", "phone_invalid", "warning"),
    ]


def test_contacts_page_by_row(engine: Engine, samples_dir: Path) -> None:
    audience = import_messy(engine, samples_dir, FakeClock()).audience
    page = audiences.list_contacts(engine, audience.id, limit=3)
    after = audiences.list_contacts(engine, audience.id, after_row=page[-1].row_number, limit=3)
    assert [c.row_number for c in page + after] == [2, 3, 5, 8, 9, 10]


def test_reimport_creates_a_new_audience_and_keeps_the_old(
    engine: Engine, samples_dir: Path
) -> None:
    clock = FakeClock()
    first = import_messy(engine, samples_dir, clock).audience
    clock.advance(timedelta(hours=1))
    second = import_messy(engine, samples_dir, clock).audience
    assert second.id != first.id
    assert [a.id for a in audiences.list_audiences(engine)] == [second.id, first.id]
    assert len(audiences.list_contacts(engine, first.id)) == 8
    assert audiences.get_audience(engine, first.id).uploaded_at < second.uploaded_at


def test_a_refused_or_unreadable_file_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    no_contacts = tmp_path / "names.csv"
    no_contacts.write_text("name,city\nAlex,Paris\n")
    with pytest.raises(ValidationError, match="No phone or email column"):
        audiences.import_audience(
            engine, no_contacts, name="x", clock=FakeClock(), default_region="US"
        )
    late_binary = io.BytesIO(b"email\r\n" + b"a@example.com\r\n" * 6000 + b"\x00\r\n")
    with pytest.raises(UnreadableFileError):
        audiences.import_audience(
            engine, late_binary, name="x", clock=FakeClock(), default_region="US"
        )
    with pytest.raises(UnreadableFileError, match="Cannot open"):
        audiences.import_audience(
            engine, tmp_path / "missing.csv", name="x", clock=FakeClock(), default_region="US"
        )
    assert audiences.list_audiences(engine) == []


def test_copy_is_independent_of_its_source(engine: Engine, samples_dir: Path) -> None:
    clock = FakeClock()
    source = import_messy(engine, samples_dir, clock).audience
    copy = audiences.copy_audience(engine, source.id, name="For campaign", clock=clock)
    assert copy.copied_from_id == source.id
    assert (copy.source_filename, copy.uploaded_at, copy.summary) == (
        source.source_filename,
        source.uploaded_at,
        source.summary,
    )
    original = audiences.list_contacts(engine, source.id)
    copied = audiences.list_contacts(engine, copy.id)
    assert [(c.row_number, c.phone, c.email, c.fields, c.original) for c in copied] == [
        (c.row_number, c.phone, c.email, c.fields, c.original) for c in original
    ]
    assert {c.id for c in copied}.isdisjoint(c.id for c in original)
    assert len(audiences.list_problems(engine, copy.id)) == 8
    audiences.add_contact(engine, copy.id, email="new@example.com")
    assert len(audiences.list_contacts(engine, source.id)) == 8
    assert len(audiences.list_contacts(engine, copy.id)) == 9


def test_unknown_audiences_are_not_found(engine: Engine) -> None:
    with pytest.raises(NotFoundError):
        audiences.get_audience(engine, 404)
    with pytest.raises(NotFoundError):
        audiences.audience_csv(engine, 404)
    with pytest.raises(NotFoundError):
        audiences.copy_audience(engine, 404, name="x", clock=FakeClock())


def test_export_is_formula_safe_and_reimports_to_the_same_contacts(
    engine: Engine, samples_dir: Path, tmp_path: Path
) -> None:
    clock = FakeClock()
    source = import_messy(engine, samples_dir, clock).audience
    target = tmp_path / "export.csv"
    audiences.export_audience(engine, source.id, target)
    text = target.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "phone,email,Full Name,Plan,Appointment Date,Notes"
    assert lines[1] == "'+12025550101,ALEX@example.com,Alex Doe,gold,2024-09-12,"
    assert "'=1+2" in text and ",=1+2" not in text
    again = audiences.import_audience(
        engine, target, name="Again", clock=clock, default_region="GB"
    ).audience
    keep = [(c.phone, c.email, c.fields) for c in audiences.list_contacts(engine, source.id)]
    assert [(c.phone, c.email, c.fields) for c in audiences.list_contacts(engine, again.id)] == keep


def test_a_large_file_goes_through_worker_processes_and_bulk_batches(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "large.csv"
    rows = 12_500
    with path.open("w", encoding="utf-8") as out:
        out.write("email,phone,n\n")
        for n in range(rows):
            phone = "bad" if n % 100 == 7 else f"+447400{n:06d}"
            out.write(f"user{n % 12_000}@example.com,{phone},{n}\n")
    seen: list[int] = []
    imported = audiences.import_audience(
        engine,
        path,
        name="Large",
        clock=FakeClock(),
        default_region="GB",
        # Worker processes behave the same whatever the database: start them once.
        workers=2 if engine.dialect.name == "sqlite" else 1,
        on_progress=seen.append,
    )
    summary = imported.summary
    assert summary.records_read == rows
    assert summary.duplicates == 500
    assert summary.valid_contacts == 12_000
    assert summary.warnings == sum(1 for n in range(rows) if n % 100 == 7)
    assert seen[-1] == path.stat().st_size
    with engine.connect() as connection:
        stored = connection.execute(
            select(func.count()).where(CONTACTS.c.audience_id == imported.audience.id)
        ).scalar_one()
        problems = connection.execute(
            select(func.count()).where(PROBLEMS.c.audience_id == imported.audience.id)
        ).scalar_one()
    assert stored == 12_000
    assert problems == summary.warnings + summary.duplicates
    with path.open("rb") as stream:
        serial = AudienceCheck(stream, default_region="GB")
        assert [o.row for o in serial.outcomes()][-1] == rows + 1


class TrickleStream(io.BytesIO):
    """A stream that hands out little at a time, like an upload arriving."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(64 * 1024)


def test_an_import_is_visible_as_importing_until_its_summary_is_in(engine: Engine) -> None:
    rows = b"".join(b"user%d@example.com,+4474%08d\n" % (n, n) for n in range(30_000))
    states: list[tuple[str, int]] = []

    def look(_done: int) -> None:
        [audience] = audiences.list_audiences(engine) or [None]
        if audience is not None:
            with engine.connect() as connection:
                stored = connection.execute(
                    select(func.count()).where(CONTACTS.c.audience_id == audience.id)
                ).scalar_one()
            states.append((audience.status, stored))

    imported = audiences.import_audience(
        engine,
        TrickleStream(b"email,phone\n" + rows),
        name="Trickle",
        clock=FakeClock(),
        default_region="GB",
        on_progress=look,
    )
    assert imported.audience.status == "ready"
    assert {status for status, _ in states} == {"importing"}
    assert any(0 < stored < 30_000 for _, stored in states)  # batches committed as they go


def test_an_audience_being_imported_cannot_be_used_yet(engine: Engine) -> None:
    with engine.begin() as connection:
        audience_id = store.create_audience(
            connection,
            store.NewAudience(
                name="Arriving",
                source_filename="big.csv",
                uploaded_at=FakeClock().now(),
                created_at=FakeClock().now(),
                encoding="utf-8",
                delimiter=",",
                default_region="US",
                header=["email"],
                column_mapping={
                    "phone": None,
                    "phone_index": None,
                    "email": "email",
                    "email_index": 0,
                    "custom_fields": [],
                },
                summary={},
                status=store.AudienceStatus.IMPORTING,
            ),
        )
    for attempt in (
        lambda: audiences.copy_audience(engine, audience_id, name="x", clock=FakeClock()),
        lambda: audiences.add_contact(engine, audience_id, email="a@example.com"),
        lambda: audiences.audience_csv(engine, audience_id),
    ):
        with pytest.raises(ConflictError, match="still being imported") as caught:
            attempt()
        assert caught.value.code == "audience_importing"


def test_a_failed_batch_write_reaches_the_import(engine: Engine) -> None:
    from herald.domain.audience.pipeline import SettledBatch
    from herald.services.audience_preparation import PreparedRows, RowTarget, stored_form
    from herald.services.audience_writer import AudienceWriter
    from herald.store.audience_rows import contact_row
    from herald.store.bulk import uses_copy

    target = RowTarget(404, as_copy_text=uses_copy(engine))  # no audience 404

    def batch() -> SettledBatch[PreparedRows]:
        row = contact_row(404, 2, "+12025550101", None, None, "{}", "+12025550101")
        return SettledBatch(PreparedRows([stored_form(target)(row)], {}, {}), [])

    refused = engine.dialect.dbapi.IntegrityError
    with pytest.raises(refused), AudienceWriter(engine, target) as writer:
        writer.add(batch())  # the foreign key refuses the write
        writer.flush()
    with pytest.raises(ValueError, match="first"), AudienceWriter(engine, target) as w:
        w.add(batch())
        w.flush()
        raise ValueError("first")


COPY_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


def test_copy_lines_store_every_value_exactly(engine: Engine, samples_dir: Path) -> None:
    from herald.store.audience_rows import PROBLEM_COLUMNS, copy_line
    from herald.store.bulk import copy_lines, uses_copy

    if not uses_copy(engine):
        with engine.begin() as connection, pytest.raises(ValueError, match="PostgreSQL"):
            copy_lines(connection, PROBLEMS, PROBLEM_COLUMNS, ["1\t2\tx\ty\tz\tw\n"])
        return
    audience_id = import_messy(engine, samples_dir, FakeClock()).audience.id
    p = PROBLEMS.c

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(st.none() | st.integers(0, 2**31 - 1), COPY_TEXT | st.none())))
    def round_trip(values: list[tuple[int | None, str | None]]) -> None:
        rows = [(audience_id, row, text, "code", "warning", text or "") for row, text in values]
        with engine.connect() as connection, connection.begin() as transaction:
            before = connection.execute(select(func.max(p.id))).scalar_one()
            copy_lines(connection, PROBLEMS, PROBLEM_COLUMNS, [copy_line(row) for row in rows])
            query = select(*(p[name] for name in PROBLEM_COLUMNS)).where(p.id > before)
            stored = connection.execute(query.order_by(p.id)).all()
            transaction.rollback()
        assert [tuple(row) for row in stored] == rows

    round_trip()
