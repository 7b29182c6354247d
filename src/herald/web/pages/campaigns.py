"""Campaigns list and the three-step campaign builder.

``/campaigns`` lists campaigns a page at a time; ``POST /campaigns/new``
creates a draft and opens the builder on it. The builder's steps live in
their own modules (:mod:`.builder_setup`, :mod:`.builder_journey`,
:mod:`.builder_review`) and are included here, so the page registry has
one router for the whole area.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from herald.domain.campaign import CampaignStatus
from herald.errors import ValidationError
from herald.services.campaign_listing import CampaignPage, list_page
from herald.web.auth import CurrentUser, RequireWrite
from herald.web.deps import HeraldDep
from herald.web.pages.builder_common import sentence
from herald.web.pages.builder_journey import router as journey_router
from herald.web.pages.builder_review import router as review_router
from herald.web.pages.builder_setup import router as setup_router
from herald.web.templating import render

router = APIRouter(include_in_schema=False)
for _step_router in (setup_router, journey_router, review_router):
    router.include_router(_step_router)

PER_PAGE = 25
NEW_CAMPAIGN_NAME = "Untitled campaign"


@router.get("/campaigns")
def campaigns_list(
    request: Request,
    herald: HeraldDep,
    who: CurrentUser,
    status: Annotated[str, Query(max_length=20)] = "",
    tag: Annotated[str, Query(max_length=100)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    filters = {"status": status, "tag": tag, "q": q}
    error = None
    try:
        with herald.sessions() as db:
            result = list_page(
                db, status=status or None, tag=tag or None, search=q, page=page, per_page=PER_PAGE
            )
    except ValidationError as exc:
        error = sentence(exc.message)
        result = CampaignPage((), 0, 1, PER_PAGE)
    context = {
        "result": result,
        "filters": filters,
        "statuses": [item.value for item in CampaignStatus],
        "error": error,
    }
    return render(request, "campaigns/list.html", context, status_code=422 if error else 200)


@router.get("/campaigns/new")
def new_campaign_form(request: Request, who: RequireWrite) -> Response:
    """A plain page with the create button, for links and bookmarks to ``/campaigns/new``."""
    return render(request, "campaigns/new.html", {"name": NEW_CAMPAIGN_NAME})


@router.post("/campaigns/new")
def create_campaign(
    herald: HeraldDep,
    who: RequireWrite,
    name: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    with herald.sessions() as db:
        draft = herald.campaigns.create_draft(db, name=name.strip() or NEW_CAMPAIGN_NAME)
    return RedirectResponse(f"/campaigns/{draft.id}/setup", status_code=303)
