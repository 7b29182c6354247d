"""Bulk row writes: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite.

Used for uploads of up to millions of rows, where SQLAlchemy's per-row
parameter processing would cost more than the database itself. Rows are
plain tuples in column order, already in database form (JSON as text,
``None`` for NULL), and are written on the caller's connection, inside its
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, Engine, Table


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Append ``rows`` (tuples ordered like ``columns``) to ``table``."""
    if not rows:
        return
    names = _checked_names(table, columns)
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has been closed")
    if uses_copy(connection):
        # COPY streams rows in PostgreSQL's own format: no statement per row. The
        # queued writer sends them from a thread while this one formats the next.
        with driver.cursor() as cursor:
            statement = f"COPY {table.name} ({names}) FROM STDIN"
            with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    _insert_many(driver, table, names, len(columns), rows)


def uses_copy(connectable: Connection | Engine) -> bool:
    """Whether :func:`copy_lines` works on this database."""
    return connectable.dialect.name == "postgresql"


def copy_lines(
    connection: Connection, table: Table, columns: Sequence[str], lines: list[str]
) -> None:
    """Append rows already in ``COPY`` text format (PostgreSQL), one line each, line
    ends included: the text goes to the server as it is, in one piece."""
    if not lines:
        return
    if not uses_copy(connection):
        raise ValueError(f"COPY text needs PostgreSQL, not {connection.dialect.name}")
    names = _checked_names(table, columns)
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has been closed")
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        copy.write("".join(lines))


def _checked_names(table: Table, columns: Sequence[str]) -> str:
    unknown = [name for name in columns if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
    return ", ".join(columns)


def _insert_many(
    driver: Any, table: Table, names: str, width: int, rows: Sequence[tuple[Any, ...]]
) -> None:
    marks = ", ".join("?" * width)
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)  # noqa: S608
    finally:
        cursor.close()
