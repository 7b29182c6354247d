"""One campaign: progress, controls, the audience download and copy.

The overview renders from the campaign row and its counters only
(:mod:`herald.services.campaign_monitor`), so it stays as fast for a
million contacts as for ten; the live stream, the subscriber activity and
the message logs are in the ``campaign_detail_*`` modules beside this one
and share this router. A draft has no progress to show: its page is the
builder's first step.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from herald.domain.campaign import CampaignAction, CampaignStatus
from herald.errors import ConflictError, ValidationError
from herald.services import audiences
from herald.services.campaign_monitor import CampaignSnapshot, copy_into_new_campaign, snapshot
from herald.web.auth import CurrentUser, RequireWrite
from herald.web.deps import HeraldDep
from herald.web.pages import (
    campaign_detail_activity,
    campaign_detail_logs,
    campaign_detail_stream,
)
from herald.web.pages.campaign_detail_charts import live_context
from herald.web.pages.campaign_detail_common import sentence
from herald.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(campaign_detail_stream.router)
router.include_router(campaign_detail_activity.router)
router.include_router(campaign_detail_logs.router)

# What the notice says after each control, keyed by the ``done`` query value.
NOTICES = {
    "paused": "Campaign paused: no new messages go out until you resume it.",
    "resumed": "Campaign resumed.",
    "cancelled": "Campaign cancelled: every contact still in the journey ends as cancelled.",
}
CANCEL_CONFIRMATION = "cancel"


@router.get("/campaigns/{campaign_id:int}")
def campaign_page(
    request: Request, herald: HeraldDep, who: CurrentUser, campaign_id: int, done: str = ""
) -> Response:
    with herald.read_sessions() as session:
        current = snapshot(session, campaign_id)
    if current.campaign.status is CampaignStatus.DRAFT:
        return RedirectResponse(f"/campaigns/{campaign_id}/setup", status_code=303)
    return _page(request, current, notice=NOTICES.get(done))


@router.post("/campaigns/{campaign_id:int}/pause")
def pause(herald: HeraldDep, who: RequireWrite, request: Request, campaign_id: int) -> Response:
    return _control(request, herald, campaign_id, CampaignAction.PAUSE)


@router.post("/campaigns/{campaign_id:int}/resume")
def resume(herald: HeraldDep, who: RequireWrite, request: Request, campaign_id: int) -> Response:
    return _control(request, herald, campaign_id, CampaignAction.RESUME)


@router.post("/campaigns/{campaign_id:int}/cancel")
def cancel(
    herald: HeraldDep,
    who: RequireWrite,
    request: Request,
    campaign_id: int,
    confirm: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    if confirm != CANCEL_CONFIRMATION:
        error = "Cancelling cannot be undone: confirm it with the “Yes, cancel” button."
        return _control_error(request, herald, campaign_id, error, 422)
    return _control(request, herald, campaign_id, CampaignAction.CANCEL)


@router.get("/campaigns/{campaign_id:int}/audience.csv")
def download_audience(herald: HeraldDep, who: CurrentUser, campaign_id: int) -> Response:
    """The campaign's audience as CSV, formula cells neutralised, streamed page by page."""
    with herald.read_sessions() as session:
        campaign = snapshot(session, campaign_id).campaign
    if campaign.audience_id is None:
        raise ConflictError(f"campaign {campaign_id} has no audience yet", code="audience_missing")
    chunks = audiences.audience_csv(herald.engine, campaign.audience_id)
    filename = f"{_file_stem(campaign.tag)}-audience.csv"
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/campaigns/{campaign_id:int}/copy")
def copy_audience(
    request: Request, herald: HeraldDep, who: RequireWrite, campaign_id: int
) -> Response:
    """A new draft with a copy of this campaign's audience, opened in the builder."""
    try:
        with herald.sessions() as session:
            draft = copy_into_new_campaign(session, herald.clock, campaign_id)
    except (ValidationError, ConflictError) as exc:
        return _control_error(request, herald, campaign_id, sentence(exc.message), 409)
    return RedirectResponse(f"/campaigns/{draft.id}/setup", status_code=303)


def _control(
    request: Request, herald: HeraldDep, campaign_id: int, action: CampaignAction
) -> Response:
    done = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}[action.value]
    try:
        with herald.sessions() as session:
            getattr(herald.campaigns, action.value)(session, campaign_id)
    except ConflictError as exc:
        return _control_error(request, herald, campaign_id, sentence(exc.message), 409)
    return RedirectResponse(f"/campaigns/{campaign_id}?done={done}", status_code=303)


def _control_error(
    request: Request, herald: HeraldDep, campaign_id: int, error: str, status_code: int
) -> Response:
    with herald.read_sessions() as session:
        current = snapshot(session, campaign_id)
    return _page(request, current, error=error, status_code=status_code)


def _page(
    request: Request,
    current: CampaignSnapshot,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = live_context(current) | {"notice": notice, "error": error, "section": "overview"}
    return render(request, "campaign_detail/overview.html", context, status_code=status_code)


def _file_stem(tag: str) -> str:
    """A file name that needs no quoting in a header (tags are already this safe)."""
    return re.sub(r"[^a-z0-9-]+", "-", tag.lower()).strip("-") or "campaign"
