"""``/api/v1/campaigns/{id}/...``: launch, schedule, unschedule, pause, resume, cancel.

Each answers the campaign as it is afterwards. A transition the lifecycle
does not allow is refused with ``409 illegal_transition``; a launch whose
checks fail with ``422 checks_failed``, naming the first field at fault and
listing every finding in ``detail``. Send ``Idempotency-Key`` so a retried
launch cannot launch twice (a second launch would be refused anyway, but
the retry then gets the first answer instead of a 409). Every action is
recorded in the audit log.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from herald.domain.audit import Actor
from herald.services.campaigns import CampaignView
from herald.services.container import Herald
from herald.web.api import API_PREFIX
from herald.web.api.auditing import audit
from herald.web.api.campaigns import CampaignOut, ScheduleIn
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import ResourceId
from herald.web.auth import CurrentActor, RequireWrite
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(
    prefix=f"{API_PREFIX}/campaigns", tags=["campaign lifecycle"], route_class=IdempotentRoute
)


def _audited(
    herald: Herald, db: Session, actor: Actor, action: str, view: CampaignView
) -> CampaignOut:
    audit(herald, db, actor, f"campaign.{action}", ("campaign", view.id), {"status": view.status})
    return CampaignOut.of(view)


@router.post("/{campaign_id}/launch", response_model=CampaignOut)
def launch(
    campaign_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> CampaignOut:
    """Send now; a planned start is dropped. The checks must pass."""
    return _audited(herald, db, actor, "launched", herald.campaigns.launch(db, campaign_id))


@router.post("/{campaign_id}/schedule", response_model=CampaignOut)
def schedule(
    campaign_id: ResourceId,
    body: ScheduleIn,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> CampaignOut:
    """Start at a local time in an IANA timezone; a time in a DST gap or overlap is refused."""
    view = herald.campaigns.schedule(
        db, campaign_id, local=body.at, timezone=body.timezone, utc_offset=body.utc_offset
    )
    return _audited(herald, db, actor, "scheduled", view)


@router.post("/{campaign_id}/unschedule", response_model=CampaignOut)
def unschedule(
    campaign_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> CampaignOut:
    """Back to draft without a start time; nothing was sent."""
    view = herald.campaigns.unschedule(db, campaign_id)
    return _audited(herald, db, actor, "unscheduled", view)


@router.post("/{campaign_id}/pause", response_model=CampaignOut)
def pause(
    campaign_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> CampaignOut:
    """Stop sending new messages; contacts keep their place in the journey."""
    return _audited(herald, db, actor, "paused", herald.campaigns.pause(db, campaign_id))


@router.post("/{campaign_id}/resume", response_model=CampaignOut)
def resume(
    campaign_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> CampaignOut:
    return _audited(herald, db, actor, "resumed", herald.campaigns.resume(db, campaign_id))


@router.post("/{campaign_id}/cancel", response_model=CampaignOut)
def cancel(
    campaign_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> CampaignOut:
    """Stop for good: every contact still in the journey completes as cancelled."""
    return _audited(herald, db, actor, "cancelled", herald.campaigns.cancel(db, campaign_id))
