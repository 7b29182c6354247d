"""Builder step 1, setup: name and tags, the AI agent, and the audience.

The audience comes from a CSV upload (drag and drop or the file input) or
from quick add. The preview table pages through the upload by row number
and highlights flagged rows and cells; flagged rows can be removed all at
once or one by one. Every form is a plain POST that redirects back (or
re-renders with the error), so the page works without scripts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse, Response

from herald.errors import HeraldError, ValidationError
from herald.services.campaign_builder import (
    audience_panel,
    audience_rows_page,
    remove_flagged_rows,
    suggest_tag,
)
from herald.services.container import Herald
from herald.web.auth import CurrentUser, RequireWrite
from herald.web.deps import HeraldDep
from herald.web.pages.builder_common import (
    destination,
    load_campaign,
    not_editable_redirect,
    redirect,
    sentence,
    step_links,
)
from herald.web.templating import render

router = APIRouter(include_in_schema=False)

ROWS_PER_PAGE = 50
LARGE_UPLOAD_BYTES = 4 << 20
"""Uploads from this size on are validated by the configured worker processes."""


@router.get("/campaigns/{campaign_id:int}/setup")
def setup_page(
    request: Request,
    herald: HeraldDep,
    who: CurrentUser,
    campaign_id: int,
    after: Annotated[int, Query(ge=0)] = 0,
    before: Annotated[int | None, Query(ge=1)] = None,
    flagged: bool = False,
    notice: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    campaign = load_campaign(herald, campaign_id)
    if (moved := not_editable_redirect(campaign)) is not None:
        return moved
    rows = {"after": after, "before": before, "flagged": flagged}
    return _render(request, herald, campaign_id, rows=rows, notice=_NOTICES.get(notice))


@router.get("/campaigns/{campaign_id:int}/setup/tag")
def derived_tag(
    herald: HeraldDep,
    who: CurrentUser,
    campaign_id: int,
    name: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The tag the name would give, for the live hint beside the name field."""
    with herald.sessions() as db:
        return PlainTextResponse(suggest_tag(db, campaign_id, name))


@router.post("/campaigns/{campaign_id:int}/setup")
def save_setup(
    request: Request,
    herald: HeraldDep,
    who: RequireWrite,
    campaign_id: int,
    name: Annotated[str, Form(max_length=500)] = "",
    tags: Annotated[str, Form(max_length=2000)] = "",
    agent_version_id: Annotated[str, Form(max_length=20)] = "",
    go: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    entered = {"name": name, "tags": tags, "agent_version_id": agent_version_id}
    try:
        with herald.sessions() as db:
            herald.campaigns.update_draft(
                db,
                campaign_id,
                name=name,
                extra_tags=split_tags(tags),
                agent_version_id=_agent_version(agent_version_id),
            )
    except HeraldError as exc:
        if not isinstance(exc, ValidationError) and exc.code != "version_not_published":
            raise
        return _render(request, herald, campaign_id, entered=entered, error=exc, status=422)
    return redirect(destination(campaign_id, "setup", go))


@router.post("/campaigns/{campaign_id:int}/audience")
def upload_audience(
    request: Request,
    herald: HeraldDep,
    who: RequireWrite,
    campaign_id: int,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if file is None or not file.filename:
        error = ValidationError("choose a CSV file to upload", field="file")
        return _render(request, herald, campaign_id, error=error, status=422)
    workers = 1 if (file.size or 0) < LARGE_UPLOAD_BYTES else herald.settings.import_workers
    try:
        with herald.sessions() as db:
            herald.campaigns.upload_audience(
                db, campaign_id, file.file, filename=file.filename, workers=workers
            )
    except ValidationError as exc:
        return _render(request, herald, campaign_id, error=exc, status=422)
    finally:
        file.file.close()
    return redirect(f"/campaigns/{campaign_id}/setup?notice=uploaded#audience")


@router.post("/campaigns/{campaign_id:int}/audience/contacts")
def quick_add(
    request: Request,
    herald: HeraldDep,
    who: RequireWrite,
    campaign_id: int,
    phone: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    columns: Annotated[str, Form(max_length=2000)] = "",
    field_name: Annotated[list[str] | None, Form(max_length=200)] = None,
    field_value: Annotated[list[str] | None, Form(max_length=2000)] = None,
    go: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Quick add one contact; the first one also starts the audience with its ``columns``.

    Custom values come as ``field_name`` / ``field_value`` pairs, in order.
    ``go=start_list`` only starts the audience, so the next form asks for
    every column's value.
    """
    fields = dict(
        zip(field_name or [], (value.strip() for value in field_value or []), strict=False)
    )
    phone, email = phone.strip(), email.strip()
    entered = {"phone": phone, "email": email, "columns": columns} | {
        f"field.{key}": value for key, value in fields.items()
    }
    try:
        with herald.sessions() as db:
            campaign = herald.campaigns.get(db, campaign_id)
            if campaign.audience_id is None:
                herald.campaigns.start_audience(
                    db, campaign_id, custom_fields=split_columns(columns)
                )
                if go == START_LIST:
                    return redirect(f"/campaigns/{campaign_id}/setup?notice=started#audience")
            herald.campaigns.add_contact(
                db,
                campaign_id,
                phone=phone or None,
                email=email or None,
                fields={key: value for key, value in fields.items() if value},
            )
    except HeraldError as exc:
        if not isinstance(exc, ValidationError) and exc.code != "duplicate_contact":
            raise
        return _render(request, herald, campaign_id, quick=entered, error=exc, status=422)
    return redirect(f"/campaigns/{campaign_id}/setup?notice=added#audience")


@router.post("/campaigns/{campaign_id:int}/audience/remove")
def remove_rows(
    request: Request,
    herald: HeraldDep,
    who: RequireWrite,
    campaign_id: int,
    row: Annotated[int | None, Form(ge=1)] = None,
    flagged: Annotated[bool, Form()] = False,
) -> Response:
    """Remove one flagged row (``row``), or every flagged row when no row is given."""
    try:
        with herald.sessions() as db:
            remove_flagged_rows(db, campaign_id, None if row is None else [row])
    except ValidationError as exc:
        return _render(request, herald, campaign_id, error=exc, status=422)
    query = "notice=removed" + ("&flagged=true" if flagged else "")
    return redirect(f"/campaigns/{campaign_id}/setup?{query}#audience")


START_LIST = "start_list"
_NOTICES = {
    "started": "The list is ready: add its contacts one by one.",
    "uploaded": "The file was imported. Flagged rows are highlighted below.",
    "added": "The contact was added.",
    "removed": "The flagged rows were removed.",
}


def split_tags(text: str) -> list[str]:
    """Extra tags as typed: separated by commas or spaces; validated by the services."""
    return [part for part in text.replace(",", " ").split() if part]


def split_columns(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _agent_version(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValidationError(f"{text!r} is not an agent version", field="agent_version_id")
    return int(text)


def _render(
    request: Request,
    herald: Herald,
    campaign_id: int,
    *,
    rows: dict[str, Any] | None = None,
    entered: dict[str, str] | None = None,
    quick: dict[str, str] | None = None,
    error: HeraldError | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    rows = rows or {"after": 0, "before": None, "flagged": False}
    with herald.sessions() as db:
        campaign = herald.campaigns.get(db, campaign_id)
        choices = herald.campaigns.agent_choices(db)
        panel = audience_panel(db, campaign_id)
        page = audience_rows_page(
            db,
            campaign_id,
            after=rows["after"],
            before=rows["before"],
            limit=ROWS_PER_PAGE,
            flagged_only=rows["flagged"],
        )
    values = {
        "name": campaign.name,
        "tags": " ".join(campaign.extra_tags),
        "agent_version_id": str(campaign.agent_version_id or ""),
    } | (entered or {})
    context = {
        "campaign": campaign,
        "steps": step_links(campaign_id, "setup"),
        "values": values,
        "agent_choices": choices,
        "panel": panel,
        "rows": page,
        "quick": quick or {},
        "error": None if error is None else sentence(error.message),
        "error_field": None if error is None else error.field,
        "notice": notice,
    }
    return render(request, "campaigns/setup.html", context, status_code=status)
