"""Subscriber activity: the campaign's contacts a page at a time, and one contact's journey."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi import APIRouter, Request
from fastapi.responses import Response

from herald.errors import ValidationError
from herald.services.campaign_activity import (
    OUTCOME_FILTERS,
    ContactPage,
    journey_detail,
    list_contacts,
)
from herald.services.campaign_views import get_row, view_of
from herald.web.auth import CurrentUser
from herald.web.deps import HeraldDep
from herald.web.pages.campaign_detail_common import cursor_id, page_size, sentence
from herald.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/campaigns/{campaign_id:int}/activity")
def activity_page(
    request: Request,
    herald: HeraldDep,
    who: CurrentUser,
    campaign_id: int,
    q: str = "",
    outcome: str = "",
    after: str = "",
    limit: str = "",
) -> Response:
    filters = {"q": q, "outcome": outcome, "limit": limit.strip()}
    try:
        with herald.read_sessions() as session:
            page = list_contacts(
                session,
                campaign_id,
                search=q,
                outcome=outcome,
                after=cursor_id(after),
                limit=page_size(limit),
            )
    except ValidationError as exc:
        with herald.read_sessions() as session:
            campaign = view_of(get_row(session, campaign_id))
        empty = ContactPage(campaign, (), None)
        return _render(request, empty, filters, after, error=sentence(exc.message), status=422)
    return _render(request, page, filters, after)


def _render(
    request: Request,
    page: ContactPage,
    filters: dict[str, str],
    after: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "snap": page,
        "page": page,
        "filters": filters,
        "is_first_page": after in ("", "0"),
        "outcome_choices": OUTCOME_FILTERS,
        "section": "activity",
        "error": error,
    }
    return render(request, "campaign_detail/activity.html", context, status_code=status)


@router.get("/campaigns/{campaign_id:int}/activity/{journey_id:int}")
def journey_page(
    request: Request, herald: HeraldDep, who: CurrentUser, campaign_id: int, journey_id: int
) -> Response:
    with herald.read_sessions() as session:
        detail = journey_detail(session, campaign_id, journey_id)
    context = {"snap": SimpleNamespace(campaign=detail.campaign), "detail": detail}
    return render(request, "campaign_detail/journey.html", context | {"section": "activity"})
