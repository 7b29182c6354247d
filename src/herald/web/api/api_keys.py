"""``/api/v1/api-keys``: create, list and revoke API keys, for admins only."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from herald.domain.access import PrincipalKind
from herald.domain.api_keys import NAME_MAX_LENGTH, ApiKeyScope
from herald.services.api_keys import ApiKeyView
from herald.web.api import API_PREFIX
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import ResourceId
from herald.web.auth import CurrentActor, RequireAdmin, require_admin
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(
    prefix=f"{API_PREFIX}/api-keys",
    tags=["api keys"],
    dependencies=[Depends(require_admin)],
    route_class=IdempotentRoute,
)


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=NAME_MAX_LENGTH, examples=["CRM sync"])
    scope: ApiKeyScope = ApiKeyScope.READ


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The public part of the token, to tell keys apart.")
    scope: ApiKeyScope
    created_by_id: int | None
    created_by_email: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKeyView) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scope=key.scope,
            created_by_id=key.created_by_id,
            created_by_email=key.created_by_email,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class CreatedApiKeyOut(ApiKeyOut):
    token: str = Field(description="The bearer token. Shown only in this response: store it now.")


class ApiKeyListOut(BaseModel):
    items: list[ApiKeyOut]


@router.get("", response_model=ApiKeyListOut)
def list_keys(herald: HeraldDep, db: SessionDep, include_revoked: bool = True) -> ApiKeyListOut:
    keys = herald.api_keys.list_keys(db, include_revoked=include_revoked)
    return ApiKeyListOut(items=[ApiKeyOut.of(key) for key in keys])


@router.post("", response_model=CreatedApiKeyOut, status_code=201)
def create_key(
    body: ApiKeyIn, herald: HeraldDep, db: SessionDep, who: RequireAdmin, actor: CurrentActor
) -> CreatedApiKeyOut:
    # A key made with an admin key belongs to no user, like one made on the command line.
    creator = who.id if who.kind is PrincipalKind.USER else None
    created = herald.api_keys.create_key(
        db, name=body.name, scope=body.scope, actor=actor, created_by=creator
    )
    out = ApiKeyOut.of(created.key)
    return CreatedApiKeyOut(**out.model_dump(), token=created.token)


@router.delete("/{key_id}", status_code=204)
def revoke_key(
    key_id: ResourceId, herald: HeraldDep, db: SessionDep, actor: CurrentActor
) -> Response:
    herald.api_keys.revoke_key(db, key_id, actor=actor)
    return Response(status_code=204)
