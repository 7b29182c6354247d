"""``/api/v1/me``: who the caller is and what they may do; a user's own password."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from herald.domain.access import PrincipalKind
from herald.domain.api_keys import ApiKeyScope
from herald.domain.users import PASSWORD_MAX_LENGTH, Role
from herald.web.api import API_PREFIX
from herald.web.auth import CurrentActor, CurrentUser, SignedInUser
from herald.web.deps import HeraldDep, SessionDep
from herald.web.sessions import browser_session

router = APIRouter(prefix=f"{API_PREFIX}/me", tags=["me"])


class MeOut(BaseModel):
    kind: PrincipalKind
    id: int = Field(description="The user's id, or the API key's id.")
    label: str = Field(description="The user's email, or the API key's name.")
    name: str
    role: Role | None = Field(description="For users.")
    scope: ApiKeyScope | None = Field(description="For API keys.")
    can_write: bool
    is_admin: bool


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=PASSWORD_MAX_LENGTH)
    new_password: str = Field(max_length=PASSWORD_MAX_LENGTH)


@router.get("", response_model=MeOut)
def me(who: CurrentUser) -> MeOut:
    return MeOut(
        kind=who.kind,
        id=who.id,
        label=who.label,
        name=who.name,
        role=who.role,
        scope=who.scope,
        can_write=who.can_write,
        is_admin=who.is_admin,
    )


@router.post("/password", status_code=204)
def change_password(
    body: PasswordChangeIn,
    request: Request,
    herald: HeraldDep,
    db: SessionDep,
    who: SignedInUser,
    actor: CurrentActor,
) -> Response:
    """Change your own password; your other sessions end, this one continues."""
    herald.users.change_own_password(
        db,
        who.id,
        current_password=body.current_password,
        new_password=body.new_password,
        actor=actor,
    )
    version = herald.users.session_version(db, who.id)
    browser_session(request).log_in(who.id, version, herald.clock.now())
    return Response(status_code=204)
