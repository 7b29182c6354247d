"""The suppression list: browse and search, add an address, import and export CSV, remove.

Any signed-in user may add addresses (adding only ever protects people);
removing one lets Herald message that person again, so only admins may.
Every change is written to the audit log.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator, Mapping
from typing import IO, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from herald.domain.audit import AuditTarget
from herald.domain.suppression import SuppressionReason, SuppressionScope
from herald.errors import ValidationError
from herald.services.audit import record_audit
from herald.services.suppression import list_suppressions, suppress, unsuppress
from herald.services.suppression_csv import (
    SuppressionImportReport,
    export_suppressions_csv,
    import_suppressions_csv,
)
from herald.store.suppression import EntryFilter
from herald.web.auth import CurrentActor, require_admin
from herald.web.deps import HeraldDep
from herald.web.pages.admin_forms import error_status, notice_text, redirect_with_notice, sentence
from herald.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_SEARCH_CHARS = 200
EXPORT_CHUNK_CHARS = 64 * 1024
NOTICES = {
    "added": "Address added: no campaign will message it.",
    "present": "That address was already on the list; its first entry is kept.",
    "removed": "Suppression removed: campaigns may message this address again.",
    "absent": "There was no such entry to remove.",
}


@router.get("/suppression")
def suppression_page(
    request: Request,
    herald: HeraldDep,
    q: str = "",
    scope: str = "",
    reason: str = "",
    after: int | None = None,
    notice: str | None = None,
) -> Response:
    where = _filter(q, scope, reason)
    with herald.read_sessions() as db:
        page = list_suppressions(
            db,
            scope=where.scope,
            reason=where.reason,
            search=where.address_contains,
            after_id=after,
            limit=PAGE_SIZE,
        )
    filters = {"q": q.strip(), "scope": scope, "reason": reason}
    query = {key: value for key, value in filters.items() if value}
    return _render(
        request,
        {
            "entries": page.items,
            "filters": filters,
            "is_filtered": bool(query),
            "next_url": _url(query | {"after": page.next_after_id}) if page.next_after_id else None,
            "first_url": _url(query) if after is not None else None,
            "export_url": "/suppression/export.csv" + (f"?{urlencode(query)}" if query else ""),
            "notice": notice_text(notice, NOTICES),
        },
    )


@router.post("/suppression")
def add_suppression(
    request: Request,
    herald: HeraldDep,
    actor: CurrentActor,
    address: Annotated[str, Form(max_length=320)] = "",
    scope: Annotated[str, Form(max_length=20)] = "all",
    detail: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        with herald.sessions() as db, db.begin():
            result = suppress(
                db,
                address,
                reason=SuppressionReason.MANUAL,
                scope=_scope(scope) or SuppressionScope.ALL,
                detail=detail.strip() or None,
                clock=herald.clock,
                default_region=herald.settings.default_region,
            )
            if result.created:
                details = {"address": result.entry.address, "scope": result.entry.scope.value}
                _audit(db, herald, actor, "suppression.added", result.entry.address, details)
    except ValidationError as exc:
        context = {"add_error": sentence(exc), "add_values": {"address": address, "detail": detail}}
        return _render(request, _empty_listing() | context, status_code=error_status(exc))
    return redirect_with_notice("/suppression", "added" if result.created else "present")


@router.post("/suppression/remove", dependencies=[Depends(require_admin)])
def remove_suppression(
    herald: HeraldDep,
    actor: CurrentActor,
    address: Annotated[str, Form(max_length=320)] = "",
    scope: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Admins only: lifting a suppression lets campaigns reach the person again."""
    with herald.sessions() as db, db.begin():
        chosen = _scope(scope)
        removed = unsuppress(
            db, address, scope=chosen, default_region=herald.settings.default_region
        )
        if removed:
            details = {
                "address": address,
                "scope": chosen.value if chosen else "every",
                "removed": removed,
            }
            _audit(db, herald, actor, "suppression.removed", address, details)
    return redirect_with_notice("/suppression", "removed" if removed else "absent")


@router.post("/suppression/import")
def import_suppression(
    request: Request,
    herald: HeraldDep,
    actor: CurrentActor,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    try:
        if file is None or not file.filename:
            raise ValidationError("choose a CSV file to import", field="file")
        text = io.TextIOWrapper(file.file, encoding="utf-8-sig", newline="")
        with herald.sessions() as db, db.begin():
            report = _import(db, herald, text)
            details = {"file": file.filename, "added": report.added, "errors": report.errors_total}
            _audit(db, herald, actor, "suppression.imported", None, details)
    except ValidationError as exc:
        context = {"import_error": sentence(exc)}
        return _render(request, _empty_listing() | context, status_code=error_status(exc))
    return _render(request, _empty_listing() | {"report": report})


@router.get("/suppression/export.csv")
def export_suppression(
    herald: HeraldDep, q: str = "", scope: str = "", reason: str = ""
) -> Response:
    """The list as CSV (filtered like the page), written to a temporary file first so
    memory stays flat and no database session is held while the client downloads."""
    where = _filter(q, scope, reason)
    # Closed by _chunks once the response has been sent, not by a with block.
    spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        with herald.read_sessions() as db:
            export_suppressions_csv(db, spool, where=where)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    headers = {"Content-Disposition": 'attachment; filename="suppression-list.csv"'}
    return StreamingResponse(_chunks(spool), media_type="text/csv; charset=utf-8", headers=headers)


def _chunks(spool: IO[str]) -> Iterator[str]:
    try:
        while chunk := spool.read(EXPORT_CHUNK_CHARS):
            yield chunk
    finally:
        spool.close()


def _import(db: Session, herald: HeraldDep, text: io.TextIOWrapper) -> SuppressionImportReport:
    try:
        return import_suppressions_csv(
            db,
            text,
            clock=herald.clock,
            default_region=herald.settings.default_region,
        )
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"the file is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8", field="file"
        ) from exc


def _audit(
    db: Session,
    herald: HeraldDep,
    actor: CurrentActor,
    action: str,
    address: str | None,
    details: dict[str, Any],
) -> None:
    target = AuditTarget.of("suppression", address) if address else None
    record_audit(db, actor, action, target, details, clock=herald.clock)


def _filter(q: str, scope: str, reason: str) -> EntryFilter:
    search = q.strip()
    if len(search) > MAX_SEARCH_CHARS:
        raise ValidationError(f"search at most {MAX_SEARCH_CHARS} characters", field="q")
    return EntryFilter(scope=_scope(scope), reason=_reason(reason), address_contains=search or None)


def _scope(value: str) -> SuppressionScope | None:
    if not value:
        return None
    try:
        return SuppressionScope(value)
    except ValueError:
        known = ", ".join(s.value for s in SuppressionScope)
        raise ValidationError(
            f"unknown scope {value!r}; use one of {known}", field="scope"
        ) from None


def _reason(value: str) -> SuppressionReason | None:
    if not value:
        return None
    try:
        return SuppressionReason(value)
    except ValueError:
        known = ", ".join(r.value for r in SuppressionReason)
        raise ValidationError(
            f"unknown reason {value!r}; use one of {known}", field="reason"
        ) from None


def _url(query: Mapping[str, object]) -> str:
    return "/suppression?" + urlencode(query) if query else "/suppression"


def _empty_listing() -> dict[str, object]:
    """The page around a form's answer: the list itself is one click away."""
    return {
        "entries": None,
        "filters": {"q": "", "scope": "", "reason": ""},
        "is_filtered": False,
        "export_url": "/suppression/export.csv",
    }


def _render(request: Request, context: dict[str, object], *, status_code: int = 200) -> Response:
    context = {
        "scopes": list(SuppressionScope),
        "reasons": list(SuppressionReason),
        **context,
    }
    return render(request, "suppression/list.html", context, status_code=status_code)
