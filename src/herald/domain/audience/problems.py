"""What can be wrong with an uploaded audience, as stable codes with a severity.

An ``error`` keeps the row out of the audience; a ``warning`` reports something
the user should know while the row is kept. Codes are part of Herald's public
interface (CLI JSON, API bodies): never rename one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class ProblemCode(StrEnum):
    NO_CONTACT = "no_contact"
    """Neither a phone nor an email in the row."""
    PHONE_INVALID = "phone_invalid"
    PHONE_EXTENSION = "phone_extension"
    """The phone has an extension; the number is kept without it."""
    EMAIL_INVALID = "email_invalid"
    MULTIPLE_VALUES = "multiple_values"
    """Two phones or two emails in one cell."""
    FIELD_COUNT = "field_count"
    """The row has more or fewer cells than the header."""
    SHIFTED_COLUMNS = "shifted_columns"
    """The cells are visibly one column off (a split cell), though their count is right."""
    BROKEN_QUOTES = "broken_quotes"
    DUPLICATE_CONTACT = "duplicate_contact"
    FORMULA_LIKE = "formula_like"
    """A cell that a spreadsheet would run as a formula."""
    EXTRA_CONTACT_COLUMN = "extra_contact_column"
    """A second phone or email column in the header, kept as a custom field."""
    MIXED_ENCODING = "mixed_encoding"


class Problem(NamedTuple):
    """One flagged problem. ``row`` is ``None`` for the file as a whole;
    ``column`` is the header text of the cell at fault, ``None`` for a whole row."""

    row: int | None
    column: str | None
    code: ProblemCode
    severity: Severity
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "code": str(self.code),
            "severity": str(self.severity),
            "message": self.message,
        }
