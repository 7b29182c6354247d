"""Quick add: the same validation as an upload, duplicates against the audience."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.services import audiences
from herald.testing import FakeClock


@pytest.fixture
def audience_id(engine: Engine) -> int:
    audience = audiences.create_audience(
        engine,
        name="Walk-ins",
        clock=FakeClock(),
        default_region="GB",
        custom_fields=["First Name", "Plan"],
    )
    return audience.id


def test_create_an_empty_audience(engine: Engine, audience_id: int) -> None:
    audience = audiences.get_audience(engine, audience_id)
    assert audience.header == ["phone", "email", "First Name", "Plan"]
    assert audience.source_filename is None
    assert audience.summary["valid_contacts"] == 0
    assert [f["variable"] for f in audience.summary["custom_fields"]] == ["first_name", "plan"]


def test_add_contacts_one_by_one(engine: Engine, audience_id: int) -> None:
    first = audiences.add_contact(
        engine, audience_id, phone="020 7183 8750", fields={"first_name": "Jamie"}
    )
    assert (first.contact.row_number, first.contact.phone) == (2, "+442071838750")
    assert first.contact.fields == {"first_name": "Jamie", "plan": ""}
    assert first.contact.original == "020 7183 8750,,Jamie,"
    assert first.problems == ()
    second = audiences.add_contact(engine, audience_id, email="Zoe@Example.com", phone="12")
    assert (second.contact.row_number, second.contact.email) == (3, "Zoe@example.com")
    assert [(p.column, str(p.code), str(p.severity)) for p in second.problems] == [
        ("phone", "phone_invalid", "warning")
    ]
    summary = audiences.get_audience(engine, audience_id).summary
    assert (summary["valid_contacts"], summary["warnings"]) == (2, 1)
    assert (summary["phones_available"], summary["emails_available"]) == (1, 1)
    stored = audiences.list_problems(engine, audience_id)
    assert [(p.row_number, p.code) for p in stored] == [(3, "phone_invalid")]


@pytest.mark.parametrize(
    ("phone", "email", "code", "field"),
    [
        (None, None, "no_contact", None),
        ("12", None, "phone_invalid", "phone"),
        (None, "nope", "email_invalid", "email"),
        ("+44 20 7183 8750, +44 20 7183 8751", None, "multiple_values", "phone"),
    ],
)
def test_a_contact_an_upload_would_reject_is_refused(
    engine: Engine, audience_id: int, phone: str | None, email: str | None, code: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        audiences.add_contact(engine, audience_id, phone=phone, email=email)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert audiences.list_contacts(engine, audience_id) == []


def test_duplicates_of_the_audience_are_refused_naming_the_row(
    engine: Engine, audience_id: int
) -> None:
    audiences.add_contact(engine, audience_id, phone="+442071838750", email="a@example.com")
    with pytest.raises(ConflictError, match=r"row 2") as caught:
        audiences.add_contact(engine, audience_id, email="A@EXAMPLE.COM")
    assert (caught.value.code, caught.value.field) == ("duplicate_contact", "email")
    with pytest.raises(ConflictError, match=r"\+442071838750 is already in this audience"):
        audiences.add_contact(engine, audience_id, phone="020 7183 8750")


def test_unknown_fields_and_audiences_are_refused(engine: Engine, audience_id: int) -> None:
    with pytest.raises(ValidationError, match="'plan_b' is not a field") as caught:
        audiences.add_contact(engine, audience_id, email="a@example.com", fields={"plan_b": "x"})
    assert caught.value.field == "plan_b"
    with pytest.raises(NotFoundError):
        audiences.add_contact(engine, 999, email="a@example.com")


def test_quick_add_into_an_imported_audience_continues_its_rows(
    engine: Engine, samples_dir: Path
) -> None:
    imported = audiences.import_audience(
        engine,
        samples_dir / "messy-excel-export.csv",
        name="Messy",
        clock=FakeClock(),
        default_region="GB",
    )
    added = audiences.add_contact(
        engine, imported.audience.id, email="new@example.com", fields={"plan": "gold"}
    )
    assert added.contact.row_number == 14
    assert added.contact.original == "new@example.com;;;gold;;"
    with pytest.raises(ConflictError, match="row 2"):
        audiences.add_contact(engine, imported.audience.id, phone="+1 202 555 0101")


def test_an_audience_without_an_email_column_refuses_an_email(
    engine: Engine, tmp_path: Path
) -> None:
    phones = tmp_path / "phones.csv"
    phones.write_text("Mobile,Name\n+12025550101,Ann\n")
    imported = audiences.import_audience(
        engine, phones, name="Phones", clock=FakeClock(), default_region="US"
    )
    with pytest.raises(ValidationError, match="no email column") as caught:
        audiences.add_contact(engine, imported.audience.id, email="a@example.com")
    assert caught.value.field == "email"
    added = audiences.add_contact(engine, imported.audience.id, phone="+12025550102")
    assert added.contact.original == "+12025550102,"


def test_names_and_regions_are_checked(engine: Engine) -> None:
    with pytest.raises(ValidationError) as caught:
        audiences.create_audience(engine, name="  ", clock=FakeClock(), default_region="US")
    assert caught.value.field == "name"
    with pytest.raises(ValidationError) as caught:
        audiences.create_audience(engine, name="x", clock=FakeClock(), default_region="XX")
    assert caught.value.field == "default_region"
