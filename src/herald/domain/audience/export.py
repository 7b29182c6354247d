"""CSV export of an audience, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return
would be run as a formula by Excel, LibreOffice or Google Sheets (formula
injection). Such cells get a leading apostrophe, which spreadsheets read as
"this is text" and do not display. Phone numbers in E.164 (``+44...``)
are therefore exported as ``'+44...``.

The escape is reversible so that export → import gives back every value
exactly: a cell that already starts with apostrophes followed by one of
those characters gets one more, and :func:`restore_cell` (applied to every
cell on import) removes exactly one. A lone apostrophe before anything else
is left alone both ways.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from herald.domain.audience.columns import CustomField, is_named_by_position

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 1000
UTF8_BOM = "\ufeff"  # lets Excel recognise the file as UTF-8


def neutralise_cell(value: str) -> str:
    """The value as written to an exported CSV."""
    if value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """Inverse of :func:`neutralise_cell`, applied to cells read from an upload."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def export_header(custom_fields: Sequence[CustomField]) -> list[str]:
    """``phone``, ``email``, then each custom column under a header that maps back to
    the same variable on re-import (the original header unless its name came from
    its position, which changes in the export)."""
    headers = [f.variable if is_named_by_position(f.header) else f.header for f in custom_fields]
    return [neutralise_cell(text) for text in ("phone", "email", *headers)]


def export_row(phone: str | None, email: str | None, values: Iterable[str]) -> list[str]:
    return [neutralise_cell(cell) for cell in (phone or "", email or "", *values)]


def csv_chunks(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV text (BOM first, CRLF line ends, comma-separated) in chunks of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(UTF8_BOM)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
