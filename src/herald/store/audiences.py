"""Audiences, their contacts, the rows that did not become contacts, and flagged problems.

Every record of an upload is stored exactly once, as read: a contact
(``audience_contacts``) or an excluded row (``audience_excluded_rows``:
rejected or duplicate). Together with the audience's source file name,
upload time and header, nothing of an upload is lost, and re-importing a
file creates a new audience rather than touching an old one.

Bulk writes take tuples already in database form (see
:mod:`herald.store.bulk`); reads return the frozen records below.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Mapped, mapped_column

from herald.domain.ids import AudienceId
from herald.errors import ConflictError, NotFoundError
from herald.store.audience_rows import CONTACT_COLUMNS, EXCLUDED_COLUMNS, PROBLEM_COLUMNS
from herald.store.base import Base, UtcDateTime
from herald.store.bulk import copy_lines, insert_rows

_Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class AudienceStatus(StrEnum):
    """An upload is written in batches, each committed on its own (a long
    transaction would hold SQLite's write lock for the whole upload); the
    audience is ``importing`` until its last batch and summary are in."""

    IMPORTING = "importing"
    READY = "ready"


class AudienceRow(Base):
    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))
    source_filename: Mapped[str | None] = mapped_column(String(500))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    encoding: Mapped[str | None] = mapped_column(String(20))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    default_region: Mapped[str] = mapped_column(String(2))
    header: Mapped[list[str]] = mapped_column(JSON)
    column_mapping: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    copied_from_id: Mapped[int | None] = mapped_column(
        _Id, ForeignKey("audiences.id", ondelete="SET NULL")
    )


class ContactRow(Base):
    """One contact. Only (audience, row) is indexed: indexes on phone or email,
    whose values arrive in random order, would double the cost of a bulk import
    (measured: 14 µs instead of 5 µs per row on SQLite); the one query that
    looks contacts up by value (:func:`find_contact_row`, for quick add) scans
    the audience's rows instead."""

    __tablename__ = "audience_contacts"
    __table_args__ = (UniqueConstraint("audience_id", "row_number"),)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    audience_id: Mapped[int] = mapped_column(_Id, ForeignKey("audiences.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320))
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    original: Mapped[str] = mapped_column(Text)


class ExcludedRow(Base):
    __tablename__ = "audience_excluded_rows"
    __table_args__ = (UniqueConstraint("audience_id", "row_number"),)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    audience_id: Mapped[int] = mapped_column(_Id, ForeignKey("audiences.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    duplicate_of_row: Mapped[int | None] = mapped_column(Integer)
    original: Mapped[str] = mapped_column(Text)


class ProblemRow(Base):
    __tablename__ = "audience_problems"
    __table_args__ = (Index(None, "audience_id", "row_number"),)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    audience_id: Mapped[int] = mapped_column(_Id, ForeignKey("audiences.id", ondelete="CASCADE"))
    row_number: Mapped[int | None] = mapped_column(Integer)
    column_name: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)


AUDIENCES = Base.metadata.tables[AudienceRow.__tablename__]
CONTACTS = Base.metadata.tables[ContactRow.__tablename__]
EXCLUDED_ROWS = Base.metadata.tables[ExcludedRow.__tablename__]
PROBLEMS = Base.metadata.tables[ProblemRow.__tablename__]


@dataclass(frozen=True)
class AudienceRecord:
    id: AudienceId
    name: str
    status: AudienceStatus
    source_filename: str | None
    uploaded_at: datetime
    created_at: datetime
    encoding: str | None
    delimiter: str | None
    default_region: str
    header: list[str]
    column_mapping: dict[str, Any]
    summary: dict[str, Any]
    copied_from_id: AudienceId | None


@dataclass(frozen=True)
class ContactRecord:
    id: int
    row_number: int
    phone: str | None
    email: str | None
    fields: dict[str, str]
    original: str


@dataclass(frozen=True)
class ProblemRecord:
    id: int
    row_number: int | None
    column: str | None
    code: str
    severity: str
    message: str


@dataclass(frozen=True)
class NewAudience:
    name: str
    source_filename: str | None
    uploaded_at: datetime
    created_at: datetime
    encoding: str | None
    delimiter: str | None
    default_region: str
    header: list[str]
    column_mapping: dict[str, Any]
    summary: dict[str, Any]
    copied_from_id: AudienceId | None = None
    status: AudienceStatus = AudienceStatus.READY


def create_audience(connection: Connection, audience: NewAudience) -> AudienceId:
    values = {**audience.__dict__, "status": str(audience.status)}
    result = connection.execute(insert(AudienceRow).values(values).returning(AudienceRow.id))
    return AudienceId(result.scalar_one())


def save_summary(
    connection: Connection,
    audience_id: AudienceId,
    summary: dict[str, Any],
    status: AudienceStatus = AudienceStatus.READY,
) -> None:
    connection.execute(
        update(AudienceRow)
        .where(AudienceRow.id == audience_id)
        .values(summary=summary, status=str(status))
    )


def delete_audience(connection: Connection, audience_id: AudienceId) -> None:
    """Remove an audience and everything stored with it (a failed upload)."""
    for table in (CONTACTS, EXCLUDED_ROWS, PROBLEMS):
        connection.execute(table.delete().where(table.c.audience_id == audience_id))
    connection.execute(AUDIENCES.delete().where(AUDIENCES.c.id == audience_id))


def add_contacts(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows as ``CONTACT_COLUMNS``; ``fields`` as text from :func:`encode_json`."""
    insert_rows(connection, CONTACTS, CONTACT_COLUMNS, rows)


def add_excluded_rows(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    insert_rows(connection, EXCLUDED_ROWS, EXCLUDED_COLUMNS, rows)


def add_problems(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    insert_rows(connection, PROBLEMS, PROBLEM_COLUMNS, rows)


def copy_upload_lines(
    connection: Connection, contacts: list[str], excluded: list[str], problems: list[str]
) -> None:
    """PostgreSQL only: an upload's rows as ``COPY`` text lines (see
    :mod:`herald.store.audience_rows`), ordered like ``add_contacts``' tuples."""
    copy_lines(connection, CONTACTS, CONTACT_COLUMNS, contacts)
    copy_lines(connection, EXCLUDED_ROWS, EXCLUDED_COLUMNS, excluded)
    copy_lines(connection, PROBLEMS, PROBLEM_COLUMNS, problems)


def encode_json(value: Any) -> str:
    """JSON text as bulk writes store it (compact, non-ASCII kept)."""
    return _encode_json(value)


def _audience(row: RowMapping) -> AudienceRecord:
    copied_from = row["copied_from_id"]
    return AudienceRecord(
        id=AudienceId(row["id"]),
        name=row["name"],
        status=AudienceStatus(row["status"]),
        source_filename=row["source_filename"],
        uploaded_at=row["uploaded_at"],
        created_at=row["created_at"],
        encoding=row["encoding"],
        delimiter=row["delimiter"],
        default_region=row["default_region"],
        header=list(row["header"]),
        column_mapping=dict(row["column_mapping"]),
        summary=dict(row["summary"]),
        copied_from_id=None if copied_from is None else AudienceId(copied_from),
    )


def find_audience(connection: Connection, audience_id: int) -> AudienceRecord | None:
    query = select(AUDIENCES).where(AUDIENCES.c.id == audience_id)
    row = connection.execute(query).mappings().first()
    return None if row is None else _audience(row)


def get_audience(connection: Connection, audience_id: int) -> AudienceRecord:
    audience = find_audience(connection, audience_id)
    if audience is None:
        raise NotFoundError(f"There is no audience {audience_id}.", field="audience_id")
    return audience


def get_ready_audience(connection: Connection, audience_id: int) -> AudienceRecord:
    """Like :func:`get_audience`, refusing an audience still being imported."""
    audience = get_audience(connection, audience_id)
    if audience.status is not AudienceStatus.READY:
        raise ConflictError(
            f"Audience {audience_id} is still being imported; try again when it is done.",
            code="audience_importing",
            field="audience_id",
        )
    return audience


def list_audiences(connection: Connection) -> list[AudienceRecord]:
    """Newest first."""
    rows = connection.execute(select(AUDIENCES).order_by(AUDIENCES.c.id.desc())).mappings()
    return [_audience(row) for row in rows]


def page_contacts(
    connection: Connection, audience_id: int, *, after_row: int = 0, limit: int = 100
) -> list[ContactRecord]:
    """Contacts in row order, starting after ``after_row`` (keyset paging)."""
    c = CONTACTS.c
    query = (
        select(c.id, c.row_number, c.phone, c.email, c.fields, c.original)
        .where(c.audience_id == audience_id, c.row_number > after_row)
        .order_by(c.row_number)
        .limit(limit)
    )
    return [ContactRecord(*row) for row in connection.execute(query)]


def lock_audience(connection: Connection, audience_id: int) -> None:
    """Serialise writers of one audience until the transaction ends.

    A no-op update takes the row lock on PostgreSQL and the database write
    lock on SQLite, so a check-then-insert (quick add) cannot race another.
    """
    connection.execute(
        update(AudienceRow).where(AudienceRow.id == audience_id).values(name=AudienceRow.name)
    )


def page_problems(
    connection: Connection, audience_id: int, *, after_id: int = 0, limit: int = 100
) -> list[ProblemRecord]:
    """Problems in the order they were found (file-level first, then by row)."""
    p = PROBLEMS.c
    query = (
        select(p.id, p.row_number, p.column_name, p.code, p.severity, p.message)
        .where(p.audience_id == audience_id, p.id > after_id)
        .order_by(p.id)
        .limit(limit)
    )
    return [ProblemRecord(*row) for row in connection.execute(query)]


def find_contact_row(
    connection: Connection, audience_id: int, phone: str | None, email_key: str | None
) -> tuple[int | None, int | None]:
    """(row of a contact with this phone, row of a contact with this email key)."""
    conditions = []
    if phone is not None:
        conditions.append(ContactRow.phone == phone)
    if email_key is not None:
        conditions.append(ContactRow.email_key == email_key)
    if not conditions:
        return None, None
    query = (
        select(ContactRow.row_number, ContactRow.phone, ContactRow.email_key)
        .where(ContactRow.audience_id == audience_id, or_(*conditions))
        .order_by(ContactRow.row_number)
    )
    phone_row = email_row = None
    for row_number, found_phone, found_key in connection.execute(query):
        if phone is not None and found_phone == phone and phone_row is None:
            phone_row = row_number
        if email_key is not None and found_key == email_key and email_row is None:
            email_row = row_number
    return phone_row, email_row


def next_row_number(connection: Connection, audience_id: int) -> int:
    """The row number after the last one used by a contact or an excluded row."""
    last_contact = select(func.max(ContactRow.row_number)).where(
        ContactRow.audience_id == audience_id
    )
    last_excluded = select(func.max(ExcludedRow.row_number)).where(
        ExcludedRow.audience_id == audience_id
    )
    highest = max(
        connection.execute(last_contact).scalar() or 1,
        connection.execute(last_excluded).scalar() or 1,
    )
    return int(highest) + 1


def copy_audience_rows(connection: Connection, source_id: int, target_id: int) -> None:
    """Copy contacts, excluded rows and problems of one audience into another, inside
    the database (``INSERT ... SELECT``): the copy shares nothing with its source."""
    for table, columns in (
        (CONTACTS, CONTACT_COLUMNS),
        (EXCLUDED_ROWS, EXCLUDED_COLUMNS),
        (PROBLEMS, PROBLEM_COLUMNS),
    ):
        target = literal(target_id, type_=table.c.audience_id.type).label("audience_id")
        selected = [target if name == "audience_id" else table.c[name] for name in columns]
        query = select(*selected).where(table.c.audience_id == source_id).order_by(table.c.id)
        connection.execute(table.insert().from_select(list(columns), query))
