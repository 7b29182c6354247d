"""``/api/v1/integrations/{id}/templates``: a WhatsApp integration's message templates.

Read from Herald's cache of the account's template list, fetched again
first when older than ``HERALD_WHATSAPP_TEMPLATES_TTL_SECONDS``; ``POST
.../templates/refresh`` fetches it at once. A failed fetch is not an API
error: the answer carries ``error`` with Meta's reason and the last good
list, as the integration's page does.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from herald.domain.ids import IntegrationId
from herald.services.whatsapp_templates import TemplateCacheView
from herald.web.api import API_PREFIX
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import ResourceId
from herald.web.auth import RequireWrite
from herald.web.deps import HeraldDep

router = APIRouter(
    prefix=f"{API_PREFIX}/integrations", tags=["integrations"], route_class=IdempotentRoute
)


class TemplateOut(BaseModel):
    name: str
    language: str
    status: str = Field(description="Meta's status: `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`…")
    category: str
    body_text: str = Field(description="The body with its `{{1}}` placeholders.")
    body_parameters: int = Field(description="Body parameters a send must carry.")
    header_format: str | None
    header_parameters: int


class TemplateListOut(BaseModel):
    integration_id: int
    templates: list[TemplateOut] | None = Field(
        description="Null when the list could never be fetched."
    )
    is_complete: bool = Field(description="False when the account has more than Herald reads.")
    fetched_at: datetime | None
    attempted_at: datetime | None
    error: str | None = Field(description="Why the last fetch failed, if it did.")

    @classmethod
    def of(cls, view: TemplateCacheView) -> TemplateListOut:
        templates = None
        if view.templates is not None:
            templates = [
                TemplateOut(
                    name=item.name,
                    language=item.language,
                    status=item.status,
                    category=item.category,
                    body_text=item.body_text,
                    body_parameters=item.body_parameters,
                    header_format=item.header_format,
                    header_parameters=item.header_parameters,
                )
                for item in view.templates
            ]
        return cls(
            integration_id=view.integration_id,
            templates=templates,
            is_complete=view.is_complete,
            fetched_at=view.fetched_at,
            attempted_at=view.attempted_at,
            error=view.error,
        )


@router.get("/{integration_id}/templates", response_model=TemplateListOut)
async def list_templates(integration_id: ResourceId, herald: HeraldDep) -> TemplateListOut:
    """The cached templates of a WhatsApp integration, fetched again first when stale."""
    fresh = herald.whatsapp_templates.ensure_fresh
    return TemplateListOut.of(await run_in_threadpool(fresh, IntegrationId(integration_id)))


@router.post("/{integration_id}/templates/refresh", response_model=TemplateListOut)
async def refresh_templates(
    integration_id: ResourceId, herald: HeraldDep, _who: RequireWrite
) -> TemplateListOut:
    """Fetch the account's templates now."""
    refresh = herald.whatsapp_templates.refresh
    return TemplateListOut.of(await run_in_threadpool(refresh, IntegrationId(integration_id)))
