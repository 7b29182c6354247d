"""Header spellings and custom field variable names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.audience.columns import map_columns, slug
from herald.errors import ValidationError


@pytest.mark.parametrize(
    "header",
    ["email", "E-mail", "Email Address", "EMAIL_ADDRESS", "e-mail address", "Mail", "Courriel"],
)
def test_email_spellings(header: str) -> None:
    assert map_columns((header, "x")).email_index == 0


@pytest.mark.parametrize(
    "header",
    [
        "phone",
        "Phone Number",
        "Mobile",
        "MSISDN",
        "WhatsApp",
        "WhatsApp number",
        "Cell",
        "Cell Phone",
        "Telephone",
        "Téléphone",
        "Tel.",
        "mobile_number",
    ],
)
def test_phone_spellings(header: str) -> None:
    assert map_columns((header, "x")).phone_index == 0


@pytest.mark.parametrize(
    ("header", "variable"),
    [
        ("Appointment Date", "appointment_date"),
        ("  First-Name ", "first_name"),
        ("Città", "citta"),
        ("2024 score", "field_2024_score"),
        ("%", "column_2"),
        ("", "column_2"),
        ("Plan (€/month)", "plan_month"),
    ],
)
def test_custom_columns_get_stable_variable_names(header: str, variable: str) -> None:
    mapping = map_columns(("email", header))
    assert mapping.variables == (variable,)
    assert mapping.custom_fields[0].header == header


def test_collisions_are_numbered_in_column_order() -> None:
    mapping = map_columns(("Name", "email", "name", "NAME!", "name_2", "Phone", "phone"))
    assert mapping.variables == ("name", "name_3", "name_4", "name_2", "phone_2")
    assert mapping.phone_column == "Phone"


def test_a_second_contact_column_is_kept_as_a_custom_field_with_a_note() -> None:
    mapping = map_columns(("Email", "Mobile", "Phone", "E-mail"))
    assert (mapping.email_column, mapping.phone_column) == ("Email", "Mobile")
    assert mapping.variables == ("phone_2", "e_mail")
    assert [(n.row, n.column, str(n.code)) for n in mapping.notes] == [
        (1, "Phone", "extra_contact_column"),
        (1, "E-mail", "extra_contact_column"),
    ]
    assert "'Mobile'" in mapping.notes[0].message and "phone_2" in mapping.notes[0].message


def test_no_contact_column_is_refused_clearly() -> None:
    with pytest.raises(ValidationError, match="No phone or email column") as caught:
        map_columns(("Name", "City"))
    assert caught.value.code == "no_contact_column"
    assert "'Name', 'City'" in caught.value.message


def test_a_missing_header_row_is_pointed_out() -> None:
    with pytest.raises(ValidationError, match="looks like data: add a header row"):
        map_columns(("alex@example.com", "+12025550101"), header_row=1)


@given(st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_variables_are_unique_identifiers_and_deterministic(headers: list[str]) -> None:
    header = ("email", *headers)
    mapping = map_columns(header)
    variables = mapping.variables
    assert len(set(variables)) == len(variables)
    assert not {"email", "phone"} & set(variables)
    assert all(v.isidentifier() and v.isascii() and v == v.lower() for v in variables)
    assert map_columns(header).variables == variables


def test_slug_is_position_based_only_without_letters_or_digits() -> None:
    assert slug("???", 4) == "column_4"
    assert slug("a?", 4) == "a"


def test_header_notes_count_once_in_the_summary() -> None:
    from .helpers import check_bytes

    check, _ = check_bytes(b"Email,Mobile,Phone\na@example.com,,\n")
    assert check.summary().warnings == 1
    assert check.summary().warnings == 1
