"""``/api/v1/audiences``: upload a CSV, read its validation report, page its contacts,
add one contact, export it as CSV.

Uploads are ``multipart/form-data`` with the file in ``file``; their size is
capped by ``HERALD_API_UPLOAD_MAX_BYTES`` (413 beyond it, see
:mod:`herald.web.api.limits`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from herald.services import audiences
from herald.services.audience_quick_add import MAX_NAME_LENGTH
from herald.store.audiences import AudienceRecord, ContactRecord, ProblemRecord
from herald.web.api import API_PREFIX
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import Cursor, Limit, ResourceId, int_cursor, next_int_cursor
from herald.web.auth import RequireWrite
from herald.web.deps import HeraldDep

router = APIRouter(
    prefix=f"{API_PREFIX}/audiences", tags=["audiences"], route_class=IdempotentRoute
)

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class AudienceOut(BaseModel):
    id: int
    name: str
    status: str = Field(description="`importing` while rows are written, then `ready`.")
    source_filename: str | None
    default_region: str
    header: list[str]
    columns: dict[str, Any] = Field(description="How the CSV's columns map to contact fields.")
    summary: dict[str, Any] = Field(description="Counts of valid, rejected and duplicate rows.")
    encoding: str | None
    delimiter: str | None
    copied_from_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, record: AudienceRecord) -> AudienceOut:
        return cls(
            id=record.id,
            name=record.name,
            status=str(record.status),
            source_filename=record.source_filename,
            default_region=record.default_region,
            header=list(record.header),
            columns=dict(record.column_mapping),
            summary=dict(record.summary),
            encoding=record.encoding,
            delimiter=record.delimiter,
            copied_from_id=record.copied_from_id,
            created_at=record.created_at,
        )


class AudiencePageOut(BaseModel):
    items: list[AudienceOut]
    next_cursor: str | None


class ProblemOut(BaseModel):
    row: int | None = Field(description="The file's row number; null for file-level problems.")
    column: str | None
    code: str
    severity: str = Field(description="`error` (row rejected) or `warning` (row kept).")
    message: str


class ValidationReportOut(BaseModel):
    """What a file would give: counts, column mapping, and every problem by row."""

    summary: dict[str, Any]
    encoding: str
    delimiter: str
    columns: dict[str, Any]
    problems: list[ProblemOut]


class ImportedAudienceOut(BaseModel):
    audience: AudienceOut
    report: dict[str, Any] = Field(description="The import summary; problems are paged apart.")


class ContactOut(BaseModel):
    id: int
    row: int = Field(description="The contact's row in the file: the paging position.")
    phone: str | None = Field(description="E.164.")
    email: str | None
    fields: dict[str, str]

    @classmethod
    def of(cls, contact: ContactRecord) -> ContactOut:
        return cls(
            id=contact.id,
            row=contact.row_number,
            phone=contact.phone,
            email=contact.email,
            fields=dict(contact.fields),
        )


class ContactPageOut(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class StoredProblemOut(ProblemOut):
    id: int

    @classmethod
    def of(cls, problem: ProblemRecord) -> StoredProblemOut:
        return cls(
            id=problem.id,
            row=problem.row_number,
            column=problem.column,
            code=problem.code,
            severity=problem.severity,
            message=problem.message,
        )


class ProblemPageOut(BaseModel):
    items: list[StoredProblemOut]
    next_cursor: str | None


class EmptyAudienceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, examples=["VIP list"])
    default_region: str = Field(
        default="US",
        min_length=2,
        max_length=2,
        examples=["PT"],
        description="Region for phone numbers written without a country code.",
    )
    custom_fields: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50, examples=[["first_name", "city"]]
    )


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, max_length=64, examples=["+351 912 345 678"])
    email: str | None = Field(default=None, max_length=320, examples=["ana@example.com"])
    fields: dict[str, Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, max_length=100, examples=[{"first_name": "Ana"}]
    )


class AddedContactOut(BaseModel):
    contact: ContactOut
    warnings: list[ProblemOut]


UploadField = Annotated[UploadFile, File(description="The CSV file.")]
RegionField = Annotated[
    str, Form(min_length=2, max_length=2, description="Region for numbers without a country code.")
]


@router.get("", response_model=AudiencePageOut)
def list_audiences(herald: HeraldDep, cursor: Cursor = None, limit: Limit = 50) -> AudiencePageOut:
    """Audiences, newest first."""
    before = int_cursor(cursor)
    records = [
        record
        for record in audiences.list_audiences(herald.engine)
        if before is None or record.id < before
    ][: limit + 1]
    last = records[limit - 1].id if len(records) > limit else None
    return AudiencePageOut(
        items=[AudienceOut.of(record) for record in records[:limit]],
        next_cursor=next_int_cursor(records, limit, last),
    )


@router.post("/check", response_model=ValidationReportOut)
def check_upload(
    herald: HeraldDep, _who: RequireWrite, file: UploadField, default_region: RegionField = "US"
) -> ValidationReportOut:
    """Validate a CSV without storing anything: the report the upload would give."""
    report = audiences.check_audience(file.file, default_region).as_dict()
    problems = report.pop("problems")
    columns = report.pop("columns")
    encoding, delimiter = report.pop("encoding"), report.pop("delimiter")
    return ValidationReportOut(
        summary=report,
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        problems=[ProblemOut(**problem) for problem in problems],
    )


@router.post("", response_model=ImportedAudienceOut, status_code=201)
def upload(
    herald: HeraldDep,
    _who: RequireWrite,
    file: UploadField,
    name: Annotated[str, Form(min_length=1, max_length=MAX_NAME_LENGTH)],
    default_region: RegionField = "US",
) -> ImportedAudienceOut:
    """Store a CSV as a new audience; rejected rows are listed under `/problems`."""
    imported = audiences.import_audience(
        herald.engine,
        file.file,
        name=name,
        clock=herald.clock,
        default_region=default_region,
        filename=file.filename,
    )
    return ImportedAudienceOut(
        audience=AudienceOut.of(imported.audience), report=imported.summary.as_dict()
    )


@router.post("/empty", response_model=AudienceOut, status_code=201)
def create_empty(body: EmptyAudienceIn, herald: HeraldDep, _who: RequireWrite) -> AudienceOut:
    """An audience without contacts, to fill with quick add."""
    record = audiences.create_audience(
        herald.engine,
        name=body.name,
        clock=herald.clock,
        default_region=body.default_region,
        custom_fields=body.custom_fields,
    )
    return AudienceOut.of(record)


@router.get("/{audience_id}", response_model=AudienceOut)
def get_audience(audience_id: ResourceId, herald: HeraldDep) -> AudienceOut:
    return AudienceOut.of(audiences.get_audience(herald.engine, audience_id))


@router.get("/{audience_id}/contacts", response_model=ContactPageOut)
def list_contacts(
    audience_id: ResourceId, herald: HeraldDep, cursor: Cursor = None, limit: Limit = 50
) -> ContactPageOut:
    """Contacts in file order."""
    after = int_cursor(cursor) or 0
    contacts = audiences.list_contacts(herald.engine, audience_id, after_row=after, limit=limit + 1)
    last = contacts[limit - 1].row_number if len(contacts) > limit else None
    return ContactPageOut(
        items=[ContactOut.of(contact) for contact in contacts[:limit]],
        next_cursor=next_int_cursor(contacts, limit, last),
    )


@router.get("/{audience_id}/problems", response_model=ProblemPageOut)
def list_problems(
    audience_id: ResourceId, herald: HeraldDep, cursor: Cursor = None, limit: Limit = 50
) -> ProblemPageOut:
    """The validation report of a stored upload: file-level problems first, then by row."""
    after = int_cursor(cursor) or 0
    problems = audiences.list_problems(herald.engine, audience_id, after_id=after, limit=limit + 1)
    last = problems[limit - 1].id if len(problems) > limit else None
    return ProblemPageOut(
        items=[StoredProblemOut.of(problem) for problem in problems[:limit]],
        next_cursor=next_int_cursor(problems, limit, last),
    )


@router.post("/{audience_id}/contacts", response_model=AddedContactOut, status_code=201)
def add_contact(
    audience_id: ResourceId, body: ContactIn, herald: HeraldDep, _who: RequireWrite
) -> AddedContactOut:
    """Quick add: one contact, validated like an uploaded row; duplicates are refused (409)."""
    added = audiences.add_contact(
        herald.engine, audience_id, phone=body.phone, email=body.email, fields=body.fields
    )
    return AddedContactOut(
        contact=ContactOut.of(added.contact),
        warnings=[ProblemOut(**problem.as_dict()) for problem in added.problems],
    )


@router.get(
    "/{audience_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The audience as CSV."}},
)
def export(audience_id: ResourceId, herald: HeraldDep) -> StreamingResponse:
    """The audience as CSV, formula-safe for spreadsheets."""
    chunks = audiences.audience_csv(herald.engine, audience_id)
    filename = f"audience-{audience_id}.csv"
    return StreamingResponse(
        chunks,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
