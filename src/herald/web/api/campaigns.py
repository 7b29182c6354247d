"""``/api/v1/campaigns``: drafts, their journey, the review summary and the preview.

The lifecycle (launch, schedule, pause, ...) is in
:mod:`herald.web.api.campaign_actions`, what happened after launch in
:mod:`herald.web.api.campaign_activity`. A draft keeps whatever is set,
even an incomplete journey; the review says what still blocks the launch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from herald.domain.campaign import CampaignStatus
from herald.domain.spec import ScheduleSpec
from herald.services.campaign_edits import MAX_NAME_LENGTH, UNSET
from herald.services.campaign_lifecycle import schedule_spec
from herald.services.campaigns import CampaignView
from herald.web.api import API_PREFIX
from herald.web.api.auditing import audit
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import (
    MAX_ID,
    Cursor,
    IdField,
    Limit,
    ResourceId,
    int_cursor,
    next_int_cursor,
)
from herald.web.auth import CurrentActor, RequireWrite
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(
    prefix=f"{API_PREFIX}/campaigns", tags=["campaigns"], route_class=IdempotentRoute
)

JOURNEY_EXAMPLE: dict[str, Any] = {
    "primary": {
        "integration": {"name": "clinic-sms", "kind": "infobip_sms"},
        "content": {"type": "text", "text": "Hi {{first_name|there}}, see you tomorrow!"},
    },
    "fallbacks": [],
}
Tag = Annotated[str, Field(min_length=1, max_length=64)]


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: str = Field(
        max_length=32,
        description="Local wall-clock time, `YYYY-MM-DDTHH:MM`.",
        examples=["2025-06-02T09:30"],
    )
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Lisbon"])
    utc_offset: str | None = Field(
        default=None,
        max_length=6,
        description="Picks one of a time that happens twice when clocks go back: `+01:00`.",
    )

    def spec(self) -> ScheduleSpec:
        return schedule_spec(self.at, self.timezone, self.utc_offset)


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, examples=["Spring check-ups"])
    extra_tags: list[Tag] = Field(default_factory=list, max_length=20)
    audience_id: IdField | None = Field(
        default=None, description="The campaign gets its own copy of this audience."
    )
    agent_version_id: IdField | None = Field(
        default=None, description="A published agent version; default: the built-in agent."
    )
    journey: dict[str, Any] | None = Field(default=None, examples=[JOURNEY_EXAMPLE])
    default_region: str = Field(default="US", min_length=2, max_length=2)
    schedule: ScheduleIn | None = Field(
        default=None, description="The planned start; it takes effect at launch."
    )


class CampaignPatch(BaseModel):
    """Only the fields present change; `null` clears (audience, agent, journey, schedule)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH)
    extra_tags: list[Tag] | None = Field(default=None, max_length=20)
    audience_id: IdField | None = None
    agent_version_id: IdField | None = None
    journey: dict[str, Any] | None = None
    default_region: str | None = Field(default=None, min_length=2, max_length=2)
    schedule: ScheduleIn | None = None


class JourneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    journey: dict[str, Any] | None = Field(examples=[JOURNEY_EXAMPLE])


class CampaignOut(BaseModel):
    id: int
    name: str
    tag: str = Field(description="Labels the campaign's conversations; fixed after launch.")
    tags: list[str]
    status: CampaignStatus
    allowed_actions: list[str] = Field(description="What the lifecycle accepts now.")
    audience_id: int | None
    agent_version_id: int | None
    journey: dict[str, Any] | None
    default_region: str
    schedule_local: str | None
    schedule_timezone: str | None
    schedule_utc_offset: str | None
    start_at: datetime | None
    contact_count: int
    created_at: datetime
    updated_at: datetime
    launched_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def of(cls, view: CampaignView) -> CampaignOut:
        data = view.as_dict()
        data["start_at"] = view.start_at
        return cls.model_validate(data)


class CampaignPageOut(BaseModel):
    items: list[CampaignOut]
    next_cursor: str | None


class JourneyOut(BaseModel):
    journey: dict[str, Any] | None
    variables: list[str] = Field(description="What messages may use: `{{name}}`.")


class ReviewOut(BaseModel):
    """Audience, flow, automation, schedule, checks and estimate, as on the review page."""

    can_launch: bool
    campaign: dict[str, Any]
    audience: dict[str, Any] | None
    flow: list[dict[str, Any]]
    automation: dict[str, Any]
    schedule: dict[str, Any] | None
    checks: dict[str, Any]
    estimate: dict[str, Any] | None


class PreviewOut(BaseModel):
    step: str
    label: str
    integration: str
    channel: str
    contact: dict[str, Any]
    kind: str
    message: dict[str, Any]
    empty: list[dict[str, Any]] = Field(description="Variables that were empty for this contact.")
    would_skip: bool
    missing_field: str | None


@router.get("", response_model=CampaignPageOut)
def list_campaigns(
    herald: HeraldDep,
    db: SessionDep,
    status: CampaignStatus | None = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CampaignPageOut:
    """Campaigns newest first, filtered by status and by any of their tags."""
    before = int_cursor(cursor)
    views = herald.campaigns.list(db, status=status.value if status else None, tag=tag)
    page = [view for view in views if before is None or view.id < before][: limit + 1]
    last = page[limit - 1].id if len(page) > limit else None
    return CampaignPageOut(
        items=[CampaignOut.of(view) for view in page[:limit]],
        next_cursor=next_int_cursor(page, limit, last),
    )


@router.post("", response_model=CampaignOut, status_code=201)
def create_campaign(
    body: CampaignIn, herald: HeraldDep, db: SessionDep, _who: RequireWrite, actor: CurrentActor
) -> CampaignOut:
    view = herald.campaigns.create_draft(
        db,
        name=body.name,
        extra_tags=body.extra_tags,
        audience_id=body.audience_id,
        agent_version_id=body.agent_version_id,
        journey=body.journey,
        default_region=body.default_region,
        schedule=body.schedule.spec() if body.schedule else None,
    )
    audit(herald, db, actor, "campaign.created", ("campaign", view.id), {"name": view.name})
    return CampaignOut.of(view)


@router.get("/{campaign_id}", response_model=CampaignOut)
def get_campaign(campaign_id: ResourceId, herald: HeraldDep, db: SessionDep) -> CampaignOut:
    return CampaignOut.of(herald.campaigns.get(db, campaign_id))


@router.patch("/{campaign_id}", response_model=CampaignOut)
def update_campaign(
    campaign_id: ResourceId,
    body: CampaignPatch,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> CampaignOut:
    """Edit a draft or scheduled campaign; started campaigns refuse (409)."""
    given = body.model_fields_set

    def pick(name: str, value: Any) -> Any:
        return value if name in given else UNSET

    schedule = body.schedule.spec() if body.schedule else None
    view = herald.campaigns.update_draft(
        db,
        campaign_id,
        name=body.name if body.name is not None else UNSET,
        extra_tags=body.extra_tags if body.extra_tags is not None else UNSET,
        audience_id=pick("audience_id", body.audience_id),
        agent_version_id=pick("agent_version_id", body.agent_version_id),
        journey=pick("journey", body.journey),
        default_region=body.default_region if body.default_region is not None else UNSET,
        schedule=pick("schedule", schedule),
    )
    audit(herald, db, actor, "campaign.updated", ("campaign", view.id), {"fields": sorted(given)})
    return CampaignOut.of(view)


@router.delete("/{campaign_id}", status_code=204)
def delete_campaign(
    campaign_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> Response:
    """Delete a draft; other statuses are cancelled instead (409)."""
    herald.campaigns.delete_draft(db, campaign_id)
    audit(herald, db, actor, "campaign.deleted", ("campaign", campaign_id))
    return Response(status_code=204)


@router.get("/{campaign_id}/journey", response_model=JourneyOut)
def get_journey(campaign_id: ResourceId, herald: HeraldDep, db: SessionDep) -> JourneyOut:
    view = herald.campaigns.get(db, campaign_id)
    variables = herald.campaigns.variables(db, campaign_id)
    return JourneyOut(journey=view.journey, variables=list(variables))


@router.put("/{campaign_id}/journey", response_model=JourneyOut)
def put_journey(
    campaign_id: ResourceId,
    body: JourneyIn,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> JourneyOut:
    """Replace the journey; a draft keeps even an incomplete one (the review says what is
    missing), a scheduled campaign refuses one that fails its checks."""
    view = herald.campaigns.update_draft(db, campaign_id, journey=body.journey)
    audit(herald, db, actor, "campaign.updated", ("campaign", view.id), {"fields": ["journey"]})
    variables = herald.campaigns.variables(db, campaign_id)
    return JourneyOut(journey=view.journey, variables=list(variables))


@router.get("/{campaign_id}/review", response_model=ReviewOut)
def review(campaign_id: ResourceId, herald: HeraldDep, db: SessionDep) -> ReviewOut:
    summary = herald.campaigns.review(db, campaign_id)
    return ReviewOut(can_launch=summary.can_launch, **summary.as_dict())


@router.get("/{campaign_id}/preview", response_model=PreviewOut)
def preview(
    campaign_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    step: Annotated[
        str, Query(max_length=32, description="`primary`, `fallback-N` or `follow-up`.")
    ] = "primary",
    contact_row: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="The contact's file row; default: the first."),
    ] = None,
) -> PreviewOut:
    """One step rendered for one contact, as they would receive it."""
    rendered = herald.campaigns.preview(db, campaign_id, step=step, contact_row=contact_row)
    return PreviewOut.model_validate(rendered.as_dict())


@router.post("/{campaign_id}/audience", response_model=CampaignOut)
def upload_audience(
    campaign_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="The CSV file.")],
) -> CampaignOut:
    """Import a CSV as the campaign's own new audience (read with the campaign's region)."""
    view = herald.campaigns.upload_audience(db, campaign_id, file.file, filename=file.filename)
    details = {"fields": ["audience_id"], "audience_id": view.audience_id}
    audit(herald, db, actor, "campaign.updated", ("campaign", view.id), details)
    return CampaignOut.of(view)
