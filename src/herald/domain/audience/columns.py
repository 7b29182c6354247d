"""Header mapping: which column holds the phone, which the email, and custom fields.

Spellings are compared after folding case, accents and punctuation away, so
"E-mail", "Email Address" and "e_mail" all name the email column. Every other
column becomes a custom field whose variable name (used in templates as
``{{variable}}``) is derived from the header text alone and stays the same
for the same header on every upload:

* accents folded to ASCII, lower case, runs of other characters become ``_``;
* a name starting with a digit gets ``field_`` in front, an empty one is
  ``column_<position>`` (1-based);
* ``phone`` and ``email`` are reserved; the first column to claim a name
  gets it, later ones get ``_2``, ``_3``... (in column order, skipping names
  another column has of its own).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from herald.domain.audience.problems import Problem, ProblemCode, Severity
from herald.errors import ValidationError

PHONE = "phone"
EMAIL = "email"

EMAIL_SPELLINGS = frozenset(
    {
        "email",
        "emails",
        "emailaddress",
        "emailadresse",
        "mail",
        "mailaddress",
        "emailid",
        "courriel",
        "correo",
        "correoelectronico",
    }
)
PHONE_SPELLINGS = frozenset(
    {
        "phone",
        "phonenumber",
        "phoneno",
        "telephone",
        "telephonenumber",
        "tel",
        "telefon",
        "telefono",
        "mobile",
        "mobilenumber",
        "mobilephone",
        "mobileno",
        "cell",
        "cellphone",
        "cellnumber",
        "msisdn",
        "whatsapp",
        "whatsappnumber",
        "contactnumber",
        "sms",
        "handy",
    }
)


@dataclass(frozen=True)
class CustomField:
    index: int
    header: str
    variable: str


@dataclass(frozen=True)
class ColumnMapping:
    """Where the contact methods are and what the other columns are called."""

    header: tuple[str, ...]
    phone_index: int | None
    email_index: int | None
    custom_fields: tuple[CustomField, ...]
    notes: tuple[Problem, ...] = ()

    @property
    def phone_column(self) -> str | None:
        return None if self.phone_index is None else self.header[self.phone_index]

    @property
    def email_column(self) -> str | None:
        return None if self.email_index is None else self.header[self.email_index]

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(field.variable for field in self.custom_fields)

    @cached_property
    def custom_indexes(self) -> tuple[int, ...]:
        return tuple(field.index for field in self.custom_fields)

    def as_dict(self) -> dict[str, Any]:
        return {
            "phone": self.phone_column,
            "phone_index": self.phone_index,
            "email": self.email_column,
            "email_index": self.email_index,
            "custom_fields": [
                {"index": f.index, "header": f.header, "variable": f.variable}
                for f in self.custom_fields
            ],
        }

    @classmethod
    def from_dict(cls, header: Sequence[str], data: Mapping[str, Any]) -> ColumnMapping:
        """The mapping :meth:`as_dict` stored (header notes are not part of it)."""
        fields = tuple(
            CustomField(f["index"], f["header"], f["variable"]) for f in data["custom_fields"]
        )
        return cls(tuple(header), data["phone_index"], data["email_index"], fields)


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: the key header spellings are compared on."""
    return re.sub(r"[^a-z0-9]", "", _ascii(text).lower())


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _name_part(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _ascii(header).lower()).strip("_")


def slug(header: str, position: int) -> str:
    """The variable name a header would get on its own (before collisions)."""
    name = _name_part(header)
    if not name:
        return f"column_{position}"
    return f"field_{name}" if name[0].isdigit() else name


def is_named_by_position(header: str) -> bool:
    """True when the header has no letters or digits to name a variable after."""
    return not _name_part(header)


def contact_role(header: str) -> str | None:
    folded = fold(header)
    if folded in EMAIL_SPELLINGS:
        return EMAIL
    if folded in PHONE_SPELLINGS:
        return PHONE
    return None


def map_columns(header: tuple[str, ...], *, header_row: int = 1) -> ColumnMapping:
    """Map a header row; refuse one with neither a phone nor an email column."""
    found: dict[str, int] = {}
    extra: list[int] = []
    for index, text in enumerate(header):
        role = contact_role(text)
        if role is not None and role not in found:
            found[role] = index
        elif role is not None:
            extra.append(index)
    if not found:
        raise _no_contact_column(header, header_row)
    fields = _custom_fields(header, set(found.values()))
    notes = tuple(_extra_note(header, index, found, header_row, fields) for index in extra)
    return ColumnMapping(header, found.get(PHONE), found.get(EMAIL), tuple(fields), notes)


def _custom_fields(header: tuple[str, ...], contact_indexes: set[int]) -> list[CustomField]:
    """Each column keeps its own name when it is the first to claim it; later
    claimants are numbered, skipping every name some column has of its own
    (so a "name_2" column keeps "name_2" even after two "name" columns)."""
    slugs = {i: slug(text, i + 1) for i, text in enumerate(header) if i not in contact_indexes}
    owners: dict[str, int] = {}
    for index, name in slugs.items():
        if name not in (PHONE, EMAIL):
            owners.setdefault(name, index)
    taken = {PHONE, EMAIL, *owners}
    fields = []
    for index, name in slugs.items():
        variable = name if owners.get(name) == index else _unique(name, taken)
        taken.add(variable)
        fields.append(CustomField(index, header[index], variable))
    return fields


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    suffix = 2
    while f"{name}_{suffix}" in taken:
        suffix += 1
    return f"{name}_{suffix}"


def _extra_note(
    header: tuple[str, ...],
    index: int,
    found: dict[str, int],
    header_row: int,
    fields: list[CustomField],
) -> Problem:
    role = contact_role(header[index])
    assert role is not None
    used = header[found[role]]
    variable = next(f.variable for f in fields if f.index == index)
    return Problem(
        header_row,
        header[index],
        ProblemCode.EXTRA_CONTACT_COLUMN,
        Severity.WARNING,
        f"'{header[index]}' also looks like a {role} column. The first one, '{used}', is "
        f"the contact's {role}; '{header[index]}' is kept as the custom field "
        f"'{variable}' and is not validated.",
    )


def _no_contact_column(header: tuple[str, ...], header_row: int) -> ValidationError:
    shown = ", ".join(f"'{text}'" for text in header)
    message = (
        f"No phone or email column: the header (row {header_row}) has {shown}. Name the "
        "column of phone numbers 'phone' (or Mobile, MSISDN, WhatsApp...) or the column of "
        "addresses 'email' (or E-mail, Email Address...), then upload again."
    )
    if any("@" in text or sum(c.isdigit() for c in text) >= 7 for text in header):
        message += f" Row {header_row} looks like data: add a header row above it."
    return ValidationError(message, code="no_contact_column", field="header")
