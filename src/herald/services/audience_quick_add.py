"""Building an audience by hand: an empty audience, then contacts one at a time.

Each contact goes through the same rules as a row of an upload (see
:mod:`herald.domain.audience.validation`) and is checked for duplicates
against the contacts already in the audience. It gets the next row number,
and its "original row" is the cells as given, written like a line of the
audience's file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from herald.clock import Clock
from herald.domain.audience.columns import ColumnMapping, map_columns
from herald.domain.audience.email_address import email_key
from herald.domain.audience.pipeline import checked_region
from herald.domain.audience.problems import Problem, Severity
from herald.domain.audience.summary import AudienceSummary, SummaryBuilder
from herald.domain.audience.validation import ValidationPlan, Verdict, validate_contact
from herald.errors import ConflictError, ValidationError
from herald.store import audiences as store
from herald.store.audiences import AudienceRecord, ContactRecord, NewAudience

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class QuickAddResult:
    """The stored contact and the warnings it was accepted with."""

    contact: ContactRecord
    problems: tuple[Problem, ...]


def checked_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"An audience needs a name of 1 to {MAX_NAME_LENGTH} characters.",
            code="invalid_name",
            field="name",
        )
    return cleaned


def create_audience(
    engine: Engine,
    *,
    name: str,
    clock: Clock,
    default_region: str,
    custom_fields: Sequence[str] = (),
) -> AudienceRecord:
    """An empty audience whose columns are phone, email and ``custom_fields``."""
    header = ("phone", "email", *custom_fields)
    mapping = map_columns(header)
    now = clock.now()
    audience = NewAudience(
        name=checked_name(name),
        source_filename=None,
        uploaded_at=now,
        created_at=now,
        encoding=None,
        delimiter=None,
        default_region=checked_region(default_region),
        header=list(header),
        column_mapping=mapping.as_dict(),
        summary=SummaryBuilder(mapping).build(blank_rows=0).as_dict(),
    )
    with engine.begin() as connection:
        return store.get_audience(connection, store.create_audience(connection, audience))


def add_contact(
    engine: Engine,
    audience_id: int,
    *,
    phone: str | None = None,
    email: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> QuickAddResult:
    """Validate and add one contact; ``fields`` are custom values by variable name.

    Raises ValidationError when the contact would be rejected as an upload row
    would (naming the field), ConflictError (code ``duplicate_contact``) when its
    phone or email is already in the audience (``audience_importing`` while it is
    being imported), NotFoundError for no audience.
    """
    with engine.begin() as connection:
        store.lock_audience(connection, audience_id)
        audience = store.get_ready_audience(connection, audience_id)
        mapping = ColumnMapping.from_dict(audience.header, audience.column_mapping)
        cells = _cells(mapping, phone or "", email or "", fields or {})
        row = store.next_row_number(connection, audience_id)
        verdict = validate_contact(ValidationPlan(mapping, audience.default_region), row, cells)
        if verdict.rejected:
            raise _rejection(verdict, mapping)
        _refuse_duplicate(connection, audience_id, verdict, mapping)
        return _store(connection, audience, mapping, verdict, cells)


def _cells(mapping: ColumnMapping, phone: str, email: str, fields: Mapping[str, str]) -> list[str]:
    cells = [""] * len(mapping.header)
    for value, index, name in (
        (phone, mapping.phone_index, "phone"),
        (email, mapping.email_index, "email"),
    ):
        if index is not None:
            cells[index] = value
        elif value.strip():
            raise ValidationError(
                f"This audience has no {name} column.", code=f"no_{name}_column", field=name
            )
    known = {field.variable: field.index for field in mapping.custom_fields}
    for variable, value in fields.items():
        if variable not in known:
            names = ", ".join(known) or "none"
            raise ValidationError(
                f"'{variable}' is not a field of this audience (its fields: {names}).",
                code="unknown_field",
                field=variable,
            )
        cells[known[variable]] = value
    return cells


def _rejection(verdict: Verdict, mapping: ColumnMapping) -> ValidationError:
    first = verdict.problems[0]
    field = {mapping.phone_column: "phone", mapping.email_column: "email"}.get(first.column)
    message = " ".join(problem.message for problem in verdict.problems)
    return ValidationError(message, code=str(first.code), field=field)


def _refuse_duplicate(
    connection: Connection, audience_id: int, verdict: Verdict, mapping: ColumnMapping
) -> None:
    key = None if verdict.email is None else email_key(verdict.email)
    phone_row, email_row = store.find_contact_row(connection, audience_id, verdict.phone, key)
    if email_row is not None:
        raise ConflictError(
            f"{verdict.email} is already in this audience (row {email_row}).",
            code="duplicate_contact",
            field="email",
        )
    if phone_row is not None:
        raise ConflictError(
            f"{verdict.phone} is already in this audience (row {phone_row}).",
            code="duplicate_contact",
            field="phone",
        )


def _store(
    connection: Connection,
    audience: AudienceRecord,
    mapping: ColumnMapping,
    verdict: Verdict,
    cells: list[str],
) -> QuickAddResult:
    values = {field.variable: cells[field.index] for field in mapping.custom_fields}
    original = _as_line(cells, audience.delimiter or ",")
    key = None if verdict.email is None else email_key(verdict.email)
    contact = (audience.id, verdict.row, verdict.phone, verdict.email, key)
    store.add_contacts(connection, [(*contact, store.encode_json(values), original)])
    store.add_problems(
        connection,
        [
            (audience.id, p.row, p.column, str(p.code), str(p.severity), p.message)
            for p in verdict.problems
        ],
    )
    warnings = sum(1 for p in verdict.problems if p.severity is Severity.WARNING)
    summary = AudienceSummary.from_dict(audience.summary).with_contact(
        verdict.phone, verdict.email, values, warnings
    )
    store.save_summary(connection, audience.id, summary.as_dict())
    stored = store.page_contacts(connection, audience.id, after_row=verdict.row - 1, limit=1)
    return QuickAddResult(stored[0], verdict.problems)


def _as_line(cells: list[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(cells)
    return buffer.getvalue()
