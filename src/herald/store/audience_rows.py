"""An upload's rows in the form they are stored in, built where they are validated.

An import prepares each row for the database in the validation worker
processes, so that the process that reads the file mostly hands finished
rows to the database. This module therefore imports nothing heavy (no
SQLAlchemy, no driver): each worker loads it.

A row is either a tuple in column order (``*_COLUMNS``, for ``executemany``)
or one line of PostgreSQL's ``COPY`` text format (:func:`copy_line`), which
the database reads without a statement, a parameter or a Python object per
value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from herald.domain.audience.problems import Problem

CONTACT_COLUMNS = ("audience_id", "row_number", "phone", "email", "email_key", "fields", "original")
EXCLUDED_COLUMNS = ("audience_id", "row_number", "status", "duplicate_of_row", "original")
PROBLEM_COLUMNS = ("audience_id", "row_number", "column_name", "code", "severity", "message")

StoredValue = str | int | None
StoredRow = tuple[StoredValue, ...]

# COPY's text format gives backslash, tab (the delimiter), line breaks and the
# other characters it reads as backslash escapes a backslash escape of their own.
_COPY_SPECIAL = re.compile("[\\\\\b\t\n\v\f\r]")
_COPY_ESCAPES = {
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
}
COPY_NULL = "\\N"


def copy_line(row: Sequence[StoredValue]) -> str:
    """``row`` as one line of ``COPY ... FROM STDIN`` text, line end included.

    Text never holds NUL here (uploads containing it are refused), which
    PostgreSQL text cannot store either way.
    """
    texts = "\x00".join([value for value in row if isinstance(value, str)])
    if _COPY_SPECIAL.search(texts) is None:
        # The common row: no value needs escaping (one search over all of them).
        plain = [COPY_NULL if v is None else v if isinstance(v, str) else str(v) for v in row]
        return "\t".join(plain) + "\n"
    return "\t".join([_copy_value(value) for value in row]) + "\n"


def _copy_value(value: StoredValue) -> str:
    if value is None:
        return COPY_NULL
    if not isinstance(value, str):
        return str(value)
    if _COPY_SPECIAL.search(value) is None:
        return value  # the common cell: nothing to escape, checked in C
    return _COPY_SPECIAL.sub(_escape, value)


def _escape(match: re.Match[str]) -> str:
    return _COPY_ESCAPES[match.group()]


def contact_row(
    audience_id: int,
    row: int,
    phone: str | None,
    email: str | None,
    email_key: str | None,
    fields_json: str,
    original: str,
) -> StoredRow:
    """A contact, as ``CONTACT_COLUMNS``; ``fields_json`` is its custom values as
    compact JSON text (non-ASCII kept)."""
    return (audience_id, row, phone, email, email_key, fields_json, original)


def excluded_row(
    audience_id: int, row: int, status: str, duplicate_of: int | None, original: str
) -> StoredRow:
    """A row that did not become a contact, as ``EXCLUDED_COLUMNS``."""
    return (audience_id, row, status, duplicate_of, original)


def problem_row(audience_id: int, problem: Problem) -> StoredRow:
    """A flagged problem, as ``PROBLEM_COLUMNS``."""
    return (
        audience_id,
        problem.row,
        problem.column,
        str(problem.code),
        str(problem.severity),
        problem.message,
    )
