"""Provider integrations: list, add, edit, test the connection, activate and deactivate.

A WhatsApp integration's page also lists the account's message templates
from the cache (fetched again when older than the TTL, or at once with
"Refresh templates"); see :mod:`herald.services.whatsapp_templates`.

Any signed-in user may manage integrations (see docs/security.md). Secrets
are shown only as "set" or "not set" and never written into a page: an
edit that leaves a secret empty keeps the stored one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from herald.domain.audit import AuditTarget
from herald.domain.channels import IntegrationKind
from herald.domain.ids import IntegrationId
from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.services.audit import record_audit
from herald.services.integration_forms import (
    KIND_LABELS,
    WEBHOOKS,
    check_integration,
    kind_label,
    setting_fields,
    settings_from_form,
)
from herald.services.integrations import IntegrationView
from herald.services.whatsapp_templates import TemplateCacheView
from herald.web.auth import CurrentActor
from herald.web.deps import HeraldDep
from herald.web.pages.admin_forms import (
    FormData,
    error_status,
    notice_text,
    redirect_with_notice,
    sentence,
)
from herald.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "created": "Integration added. Test the connection to check its credentials.",
    "saved": "Settings saved. Test the connection again to check them.",
    "activated": "Integration activated: campaigns can send through it.",
    "deactivated": "Integration deactivated: no campaign sends through it until you activate it.",
    "checked": "Connection tested; the result is below.",
    "templates": "Templates fetched again; the list is below.",
}
TEMPLATES_PER_PAGE = 50
TEMPLATE_STATUS_TONES = {
    "APPROVED": "ok",
    "PENDING": "info",
    "IN_APPEAL": "info",
    "PAUSED": "warn",
    "LIMIT_EXCEEDED": "warn",
    "REJECTED": "danger",
    "DISABLED": "danger",
}


@router.get("/integrations")
def integrations_page(request: Request, herald: HeraldDep) -> Response:
    with herald.read_sessions() as db:
        items = herald.integrations.list(db)
    context = {"integrations": items, "kind_label": kind_label}
    return render(request, "integrations/list.html", context)


@router.get("/integrations/new")
def new_integration_page(request: Request, herald: HeraldDep, kind: str | None = None) -> Response:
    chosen = _known_kind(kind)
    return _new_form(request, herald, chosen, values={}, error=None)


@router.post("/integrations")
def create_integration(
    request: Request, herald: HeraldDep, actor: CurrentActor, form: FormData
) -> Response:
    kind = _known_kind(form.get("kind"))
    if kind is None:
        error = ValidationError("choose the kind of integration to add", field="kind")
        return _new_form(request, herald, None, values=form, error=error)
    try:
        settings = settings_from_form(herald.registry, kind, form, is_edit=False)
        with herald.sessions() as db:
            name = form.get("name", "").strip()
            _audit(db, herald, actor, "integration.created", None, {"name": name, "kind": kind})
            view = herald.integrations.create(
                db,
                name=form.get("name", ""),
                kind=kind,
                settings=settings,
                is_active="is_active" in form,
            )
    except (ValidationError, ConflictError) as exc:
        return _new_form(request, herald, kind, values=form, error=exc)
    return redirect_with_notice(f"/integrations/{view.id}", "created")


@router.get("/integrations/{integration_id:int}")
def integration_page(
    request: Request,
    herald: HeraldDep,
    integration_id: int,
    notice: str | None = None,
    templates_page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    with herald.read_sessions() as db:
        view = herald.integrations.get(db, IntegrationId(integration_id))
    templates = None
    if view.kind is IntegrationKind.WHATSAPP:
        templates = herald.whatsapp_templates.ensure_fresh(view.id)
    return _detail(
        request,
        herald,
        view,
        notice=notice_text(notice, NOTICES),
        templates=templates,
        templates_page=templates_page,
    )


@router.post("/integrations/{integration_id:int}/templates/refresh")
def refresh_templates(herald: HeraldDep, integration_id: int) -> Response:
    """Fetch the WhatsApp templates now; a failure shows on the page, it is not an error page."""
    herald.whatsapp_templates.refresh(IntegrationId(integration_id))
    return redirect_with_notice(f"/integrations/{integration_id}", "templates")


@router.post("/integrations/{integration_id:int}/settings")
def save_integration(
    request: Request, herald: HeraldDep, actor: CurrentActor, integration_id: int, form: FormData
) -> Response:
    with herald.sessions() as db:
        view = herald.integrations.get(db, IntegrationId(integration_id))
        try:
            settings = settings_from_form(herald.registry, view.kind, form, is_edit=True)
            typed = sorted(name for name, value in settings.items() if value not in (None, ""))
            _audit(db, herald, actor, "integration.updated", view.id, {"settings": typed})
            herald.integrations.update(
                db, view.id, settings=settings, rate_limit_per_second=_rate(settings)
            )
        except ValidationError as exc:
            db.rollback()
            return _detail(request, herald, view, error=exc, values=form)
    return redirect_with_notice(f"/integrations/{integration_id}", "saved")


@router.post("/integrations/{integration_id:int}/test")
def test_integration(request: Request, herald: HeraldDep, integration_id: int) -> Response:
    check_integration(herald.sessions, herald.integrations, IntegrationId(integration_id))
    return redirect_with_notice(f"/integrations/{integration_id}", "checked")


@router.post("/integrations/{integration_id:int}/activate")
def activate_integration(herald: HeraldDep, actor: CurrentActor, integration_id: int) -> Response:
    return _set_active(herald, actor, integration_id, is_active=True)


@router.post("/integrations/{integration_id:int}/deactivate")
def deactivate_integration(herald: HeraldDep, actor: CurrentActor, integration_id: int) -> Response:
    return _set_active(herald, actor, integration_id, is_active=False)


def _set_active(
    herald: HeraldDep, actor: CurrentActor, integration_id: int, *, is_active: bool
) -> Response:
    notice = "activated" if is_active else "deactivated"
    with herald.sessions() as db:
        _audit(db, herald, actor, f"integration.{notice}", integration_id, {})
        herald.integrations.update(db, IntegrationId(integration_id), is_active=is_active)
    return redirect_with_notice(f"/integrations/{integration_id}", notice)


def _audit(
    db: Session,
    herald: HeraldDep,
    actor: CurrentActor,
    action: str,
    integration_id: int | None,
    details: dict[str, Any],
) -> None:
    """Add the audit entry before the change: the integration service commits the
    session, so the entry is stored exactly when the change is, never alone."""
    target = AuditTarget.of("integration", integration_id) if integration_id else None
    record_audit(db, actor, action, target, details, clock=herald.clock)


def _rate(settings: dict[str, Any]) -> float | None:
    """The rate typed in the settings, which the engine reads from the integration itself;
    unreadable text is left to the settings validation, which names the field."""
    try:
        return float(settings["rate_limit_per_second"])
    except (KeyError, TypeError, ValueError):
        return None


def _known_kind(kind: str | None) -> IntegrationKind | None:
    if not kind:
        return None
    try:
        return IntegrationKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in IntegrationKind)
        raise NotFoundError(
            f"there is no integration kind {kind!r}; Herald knows {known}", field="kind"
        ) from None


def _new_form(
    request: Request,
    herald: HeraldDep,
    kind: IntegrationKind | None,
    *,
    values: dict[str, Any],
    error: ValidationError | ConflictError | None,
) -> Response:
    context = {
        "kinds": [(k, KIND_LABELS[k]) for k in herald.registry.kinds()],
        "kind": kind,
        "kind_label": kind_label,
        "fields": setting_fields(herald.registry, kind) if kind else (),
        "values": _without_secrets(herald, kind, values),
        "error": sentence(error) if error else None,
        "error_field": error.field if error else None,
    }
    status = error_status(error) if error else 200
    return render(request, "integrations/new.html", context, status_code=status)


def _detail(
    request: Request,
    herald: HeraldDep,
    view: IntegrationView,
    *,
    notice: str | None = None,
    error: ValidationError | None = None,
    values: dict[str, Any] | None = None,
    templates: TemplateCacheView | None = None,
    templates_page: int = 1,
) -> Response:
    shown = view.settings | _without_secrets(herald, view.kind, values or {})
    if templates is None and view.kind is IntegrationKind.WHATSAPP:
        with herald.read_sessions() as db:
            templates = herald.whatsapp_templates.cached(db, view.id)
    paths, webhook_note = WEBHOOKS[view.kind]
    base = (herald.settings.public_base_url or str(request.base_url)).rstrip("/")
    context = {
        "webhooks": [(purpose, base + path) for purpose, path in paths],
        "webhook_note": webhook_note,
        "has_public_url": herald.settings.public_base_url is not None,
        "integration": view,
        "kind_label": kind_label,
        "fields": setting_fields(herald.registry, view.kind),
        "values": shown,
        "notice": notice,
        "error": sentence(error) if error else None,
        "error_field": error.field if error else None,
        "templates": templates,
        "template_rows": _page(templates, templates_page),
        "templates_page": templates_page,
        "template_tones": TEMPLATE_STATUS_TONES,
    }
    status = error_status(error) if error else 200
    return render(request, "integrations/detail.html", context, status_code=status)


def _page(templates: TemplateCacheView | None, page: int) -> dict[str, Any] | None:
    """One page of the cached templates, with the numbers for its paging links."""
    if templates is None or templates.templates is None:
        return None
    rows = templates.templates
    start = (page - 1) * TEMPLATES_PER_PAGE
    return {
        "rows": rows[start : start + TEMPLATES_PER_PAGE],
        "first": start + 1,
        "last": min(start + TEMPLATES_PER_PAGE, len(rows)),
        "total": len(rows),
        "has_next": start + TEMPLATES_PER_PAGE < len(rows),
    }


def _without_secrets(
    herald: HeraldDep, kind: IntegrationKind | None, values: dict[str, Any]
) -> dict[str, Any]:
    """Submitted values to show again, minus secrets: a page never echoes one back."""
    if kind is None:
        return dict(values)
    secrets = herald.registry.get(kind).secret_fields()
    return {key: value for key, value in values.items() if key not in secrets}
