"""Cursor pagination shared by every list of the API.

A list takes ``cursor`` (opaque: the ``next_cursor`` of the previous page)
and ``limit``, and answers ``{"items": [...], "next_cursor": ...}``, with
``next_cursor`` null on the last page. Cursors are keyset positions (an id
or a row number), so a page never skips or repeats rows that were there
when the listing started, however many are added meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import Path, Query
from pydantic import Field

from herald.errors import ValidationError

MAX_ID = 2**63 - 1
"""The largest id any table can hold (SQLite INTEGER, PostgreSQL BIGINT): larger ids in
paths, queries or bodies are refused as invalid instead of failing in the driver."""
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

Cursor = Annotated[
    str | None,
    Query(
        max_length=200, description="The `next_cursor` of the previous page; omit for the first."
    ),
]
ResourceId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]

T = TypeVar("T")


def int_cursor(cursor: str | None) -> int | None:
    """A numeric cursor, or a 422 naming ``cursor`` when it was not one Herald gave out."""
    if cursor is None or cursor == "":
        return None
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise ValidationError(
            "cursor is not one Herald gave out; pass next_cursor back unchanged",
            code="invalid_cursor",
            field="cursor",
        )
    return int(cursor)


def next_int_cursor(items: Sequence[T], limit: int, position: int | None) -> str | None:
    """The cursor after a page fetched with ``limit + 1`` rows; None on the last page."""
    if len(items) <= limit or position is None:
        return None
    return str(position)
