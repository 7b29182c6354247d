"""Settings: users, API keys and the audit log.

Members see users and keys read-only; every change, and reading the audit
log, is for admins (docs/security.md), refused with the 403 page otherwise.
A new API key's token is shown once, on the page that answers its
creation; afterwards only its prefix is ever shown.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from herald.domain.api_keys import ApiKeyScope
from herald.domain.users import PASSWORD_MIN_LENGTH, Role
from herald.errors import ConflictError, ValidationError
from herald.services.api_keys import CreatedApiKey
from herald.services.audit import list_audit
from herald.store.audit import AuditFilter
from herald.web.auth import CurrentActor, SignedInUser, require_admin
from herald.web.deps import HeraldDep
from herald.web.pages.admin_forms import (
    error_status,
    notice_text,
    redirect_with_notice,
    sentence,
)
from herald.web.templating import render

router = APIRouter(include_in_schema=False)
ADMIN = [Depends(require_admin)]

USERS_PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 50
NOTICES = {
    "user_created": "User created. Give them their password; they can change it under Account.",
    "role_changed": "Role changed.",
    "deactivated": "User deactivated: signed out everywhere, and their API keys stop working.",
    "activated": "User activated: they can sign in again.",
    "revoked": "API key revoked: requests with it are refused from now on.",
}

Text = Annotated[str, Form(max_length=1024)]


@router.get("/settings")
def users_page(
    request: Request,
    herald: HeraldDep,
    who: SignedInUser,
    after: int | None = None,
    notice: str | None = None,
) -> Response:
    return _users(request, herald, after=after, notice=notice_text(notice, NOTICES))


@router.post("/settings/users", dependencies=ADMIN)
def create_user(
    request: Request,
    herald: HeraldDep,
    actor: CurrentActor,
    email: Text = "",
    name: Text = "",
    role: Annotated[str, Form(max_length=20)] = Role.MEMBER.value,
    password: Text = "",
) -> Response:
    try:
        with herald.sessions() as db:
            herald.users.create_user(
                db, email=email, password=password, actor=actor, name=name or None, role=role
            )
    except (ValidationError, ConflictError) as exc:
        values = {"email": email, "name": name, "role": role}
        return _users(request, herald, error=exc, values=values)
    return redirect_with_notice("/settings", "user_created")


@router.post("/settings/users/{user_id:int}/role", dependencies=ADMIN)
def change_role(
    request: Request,
    herald: HeraldDep,
    actor: CurrentActor,
    user_id: int,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    return _update_user(request, herald, user_id, "role_changed", actor=actor, role=role)


@router.post("/settings/users/{user_id:int}/deactivate", dependencies=ADMIN)
def deactivate_user(
    request: Request, herald: HeraldDep, actor: CurrentActor, user_id: int
) -> Response:
    return _update_user(request, herald, user_id, "deactivated", actor=actor, is_active=False)


@router.post("/settings/users/{user_id:int}/activate", dependencies=ADMIN)
def activate_user(
    request: Request, herald: HeraldDep, actor: CurrentActor, user_id: int
) -> Response:
    return _update_user(request, herald, user_id, "activated", actor=actor, is_active=True)


@router.get("/settings/api-keys")
def api_keys_page(
    request: Request, herald: HeraldDep, who: SignedInUser, notice: str | None = None
) -> Response:
    return _keys(request, herald, notice=notice_text(notice, NOTICES))


@router.post("/settings/api-keys", dependencies=ADMIN)
def create_api_key(
    request: Request,
    herald: HeraldDep,
    who: SignedInUser,
    actor: CurrentActor,
    name: Text = "",
    scope: Annotated[str, Form(max_length=20)] = ApiKeyScope.READ.value,
) -> Response:
    try:
        with herald.sessions() as db:
            created = herald.api_keys.create_key(
                db, name=name, scope=scope, actor=actor, created_by=who.id
            )
    except ValidationError as exc:
        return _keys(request, herald, error=exc, values={"name": name, "scope": scope})
    # Answered directly, not redirected: the token must never travel in a URL.
    return _keys(request, herald, created=created)


@router.post("/settings/api-keys/{key_id:int}/revoke", dependencies=ADMIN)
def revoke_api_key(herald: HeraldDep, actor: CurrentActor, key_id: int) -> Response:
    with herald.sessions() as db:
        herald.api_keys.revoke_key(db, key_id, actor=actor)
    return redirect_with_notice("/settings/api-keys", "revoked")


@router.get("/settings/audit", dependencies=ADMIN)
def audit_page(
    request: Request, herald: HeraldDep, before: int | None = None, action: str = ""
) -> Response:
    where = AuditFilter(action=action.strip() or None)
    with herald.read_sessions() as db:
        page = list_audit(db, where, before_id=before, limit=AUDIT_PAGE_SIZE)
    base = {"action": where.action} if where.action else {}
    context = {
        "section": "audit",
        "entries": page.items,
        "action": action.strip(),
        "next_url": _audit_url(base | {"before": page.next_cursor}) if page.next_cursor else None,
        "first_url": _audit_url(base) if before is not None else None,
    }
    return render(request, "settings/audit.html", context)


def _audit_url(query: dict[str, Any]) -> str:
    return "/settings/audit" + (f"?{urlencode(query)}" if query else "")


def _update_user(
    request: Request, herald: HeraldDep, user_id: int, notice: str, **changes: Any
) -> Response:
    try:
        with herald.sessions() as db:
            herald.users.update_user(db, user_id, **changes)
    except (ValidationError, ConflictError) as exc:
        return _users(request, herald, error=exc)
    return redirect_with_notice("/settings", notice)


def _users(
    request: Request,
    herald: HeraldDep,
    *,
    after: int | None = None,
    notice: str | None = None,
    error: ValidationError | ConflictError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with herald.read_sessions() as db:
        page = herald.users.list_users(db, after_id=after, limit=USERS_PAGE_SIZE)
    context = {
        "section": "users",
        "users": page.items,
        "roles": list(Role),
        "next_url": f"/settings?after={page.next_cursor}" if page.next_cursor else None,
        "first_url": "/settings" if after is not None else None,
        "notice": notice,
        "error": sentence(error) if error else None,
        "error_field": error.field if error else None,
        "values": values or {},
        "min_length": PASSWORD_MIN_LENGTH,
    }
    status = error_status(error) if error else 200
    return render(request, "settings/users.html", context, status_code=status)


def _keys(
    request: Request,
    herald: HeraldDep,
    *,
    notice: str | None = None,
    error: ValidationError | None = None,
    values: dict[str, str] | None = None,
    created: CreatedApiKey | None = None,
) -> Response:
    with herald.read_sessions() as db:
        keys = herald.api_keys.list_keys(db)
    context = {
        "section": "api-keys",
        "keys": list(reversed(keys)),
        "scopes": list(ApiKeyScope),
        "notice": notice,
        "error": sentence(error) if error else None,
        "values": values or {},
        "created": created,
    }
    status = error_status(error) if error else 200
    # render() marks every page no-store, so the one-time token is never cached.
    return render(request, "settings/api_keys.html", context, status_code=status)
