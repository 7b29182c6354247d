"""``/api/v1/integrations``: provider accounts; create, change, test, (de)activate.

Secrets (tokens, passwords) go in and never come out: responses show them
as ``********``, and sending the mask back in an update keeps the stored
value. There is no delete: messages keep pointing at the integration that
sent them, so an integration is deactivated instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from herald.channels.base import ConnectionCheck
from herald.domain.channels import Channel, IntegrationKind
from herald.domain.ids import IntegrationId
from herald.services.container import Herald
from herald.services.integrations import IntegrationView
from herald.web.api import API_PREFIX
from herald.web.api.auditing import audit
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import ResourceId
from herald.web.auth import CurrentActor, RequireWrite
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(
    prefix=f"{API_PREFIX}/integrations", tags=["integrations"], route_class=IdempotentRoute
)

CHECK_TIMEOUT_SECONDS = 15


class IntegrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120, examples=["Clinic WhatsApp"])
    kind: IntegrationKind
    settings: dict[str, Any] = Field(
        description="Provider settings; see docs/channels for each kind's fields.",
        examples=[{"phone_number_id": "1098765", "access_token": "EAAG..."}],
    )
    is_active: bool = True
    rate_limit_per_second: float | None = Field(default=None, gt=0, le=10_000)


class IntegrationPatch(BaseModel):
    """Only what is given changes; secret fields left out (or sent as the mask) are kept."""

    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] | None = None
    is_active: bool | None = None
    rate_limit_per_second: float | None = Field(default=None, gt=0, le=10_000)


class IntegrationOut(BaseModel):
    id: int
    name: str
    kind: IntegrationKind
    channel: Channel
    settings: dict[str, Any] = Field(description="Secrets appear as `********`.")
    is_active: bool
    rate_limit_per_second: float
    health: str = Field(description="`unknown`, `healthy` or `unhealthy` (last test).")
    health_reason: str | None
    health_checked_at: datetime | None

    @classmethod
    def of(cls, view: IntegrationView) -> IntegrationOut:
        return cls(
            id=view.id,
            name=view.name,
            kind=view.kind,
            channel=view.channel,
            settings=view.settings,
            is_active=view.is_active,
            rate_limit_per_second=view.rate_limit_per_second,
            health=view.health,
            health_reason=view.health_reason,
            health_checked_at=view.health_checked_at,
        )


class IntegrationListOut(BaseModel):
    items: list[IntegrationOut]
    next_cursor: str | None = Field(
        default=None, description="Always null: integrations come in one page."
    )


@router.get("", response_model=IntegrationListOut)
def list_integrations(
    herald: HeraldDep, db: SessionDep, active_only: bool = False
) -> IntegrationListOut:
    views = herald.integrations.list(db, active_only=active_only)
    return IntegrationListOut(items=[IntegrationOut.of(view) for view in views])


@router.post("", response_model=IntegrationOut, status_code=201)
def create_integration(
    body: IntegrationIn, herald: HeraldDep, db: SessionDep, _who: RequireWrite, actor: CurrentActor
) -> IntegrationOut:
    view = herald.integrations.create(
        db,
        name=body.name,
        kind=body.kind,
        settings=body.settings,
        is_active=body.is_active,
        rate_limit_per_second=body.rate_limit_per_second,
    )
    audit(herald, db, actor, "integration.created", ("integration", view.id), {"kind": view.kind})
    return IntegrationOut.of(view)


@router.get("/{integration_id}", response_model=IntegrationOut)
def get_integration(
    integration_id: ResourceId, herald: HeraldDep, db: SessionDep
) -> IntegrationOut:
    return IntegrationOut.of(herald.integrations.get(db, IntegrationId(integration_id)))


@router.patch("/{integration_id}", response_model=IntegrationOut)
def update_integration(
    integration_id: ResourceId,
    body: IntegrationPatch,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> IntegrationOut:
    view = herald.integrations.update(
        db,
        IntegrationId(integration_id),
        settings=body.settings,
        is_active=body.is_active,
        rate_limit_per_second=body.rate_limit_per_second,
    )
    changed = sorted(body.model_fields_set | set((body.settings or {}).keys()))
    audit(herald, db, actor, "integration.updated", ("integration", view.id), {"fields": changed})
    return IntegrationOut.of(view)


@router.post("/{integration_id}/activate", response_model=IntegrationOut)
def activate(
    integration_id: ResourceId, herald: HeraldDep, db: SessionDep, actor: CurrentActor
) -> IntegrationOut:
    view = herald.integrations.update(db, IntegrationId(integration_id), is_active=True)
    audit(herald, db, actor, "integration.activated", ("integration", view.id))
    return IntegrationOut.of(view)


@router.post("/{integration_id}/deactivate", response_model=IntegrationOut)
def deactivate(
    integration_id: ResourceId, herald: HeraldDep, db: SessionDep, actor: CurrentActor
) -> IntegrationOut:
    view = herald.integrations.update(db, IntegrationId(integration_id), is_active=False)
    audit(herald, db, actor, "integration.deactivated", ("integration", view.id))
    return IntegrationOut.of(view)


@router.post("/{integration_id}/test", response_model=IntegrationOut)
async def test_integration(
    integration_id: ResourceId, herald: HeraldDep, _who: RequireWrite
) -> IntegrationOut:
    """Ask the provider whether the credentials work; the answer is kept as `health`."""
    kind, settings = await run_in_threadpool(_load, herald, IntegrationId(integration_id))
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        try:
            check = await herald.integrations.test_connection(settings, kind, http)
        except (aiohttp.ClientError, TimeoutError) as exc:
            check = ConnectionCheck(False, f"could not reach the provider: {type(exc).__name__}")
    view = await run_in_threadpool(_record, herald, IntegrationId(integration_id), check)
    return IntegrationOut.of(view)


def _load(herald: Herald, integration_id: IntegrationId) -> tuple[IntegrationKind, BaseModel]:
    with herald.sessions() as db:
        kind = herald.integrations.get(db, integration_id).kind
        return kind, herald.integrations.provider_settings(db, integration_id)


def _record(
    herald: Herald, integration_id: IntegrationId, check: ConnectionCheck
) -> IntegrationView:
    with herald.sessions() as db:
        return herald.integrations.record_health(db, integration_id, check)
