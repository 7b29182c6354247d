"""Message logs: the campaign's messages a page at a time, filterable, errors explained."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from herald.errors import ValidationError
from herald.services.campaign_monitor import snapshot
from herald.services.message_logs import (
    CHANNELS,
    MESSAGE_STATUSES,
    LogPage,
    get_message,
    list_messages,
)
from herald.web.auth import CurrentUser
from herald.web.deps import HeraldDep
from herald.web.pages.campaign_detail_common import cursor_id, page_size, sentence
from herald.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/campaigns/{campaign_id:int}/logs")
def logs_page(
    request: Request,
    herald: HeraldDep,
    who: CurrentUser,
    campaign_id: int,
    channel: str = "",
    status: str = "",
    code: str = "",
    after: str = "",
    limit: str = "",
) -> Response:
    filters = {"channel": channel, "status": status, "code": code.strip(), "limit": limit.strip()}
    try:
        with herald.read_sessions() as session:
            page = list_messages(
                session,
                campaign_id,
                channel=channel,
                status=status,
                error_code=code,
                after=cursor_id(after),
                limit=page_size(limit),
            )
    except ValidationError as exc:
        with herald.read_sessions() as session:
            current = snapshot(session, campaign_id)
        empty = LogPage(current.campaign, (), None, current.errors)
        return _render(request, empty, filters, after, error=sentence(exc.message), status=422)
    return _render(request, page, filters, after)


def _render(
    request: Request,
    page: LogPage,
    filters: dict[str, str],
    after: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    codes = [error.code for error in page.error_codes]
    context = {
        "snap": page,
        "page": page,
        "filters": filters,
        "is_first_page": after in ("", "0"),
        "channels": CHANNELS,
        "statuses": MESSAGE_STATUSES,
        "codes": codes
        + ([filters["code"]] if filters["code"] and filters["code"] not in codes else []),
        "section": "logs",
        "error": error,
    }
    return render(request, "campaign_detail/logs.html", context, status_code=status)


@router.get("/campaigns/{campaign_id:int}/logs/{message_id:int}")
def log_entry_page(
    request: Request, herald: HeraldDep, who: CurrentUser, campaign_id: int, message_id: int
) -> Response:
    with herald.read_sessions() as session:
        detail = get_message(session, campaign_id, message_id)
    context = {"snap": detail, "detail": detail, "section": "logs"}
    return render(request, "campaign_detail/log_entry.html", context)
