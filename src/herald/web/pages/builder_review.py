"""Builder step 3, review: audience, messaging flow, automation, scheduling, estimate; start.

"Review & start" launches now or schedules at a local date and time in an
IANA timezone through the campaign services, which run the checks again and
refuse (listing every blocking finding) while any fails; a time in a
daylight-saving gap or overlap is refused with the services' message. On
success the browser goes to the campaign's page.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from herald.errors import HeraldError, ValidationError
from herald.services.campaign_lifecycle import schedule_spec
from herald.services.campaign_review import LaunchBlockedError, Review
from herald.services.container import Herald
from herald.web.auth import CurrentUser, RequireWrite
from herald.web.deps import HeraldDep
from herald.web.pages.builder_common import (
    destination,
    load_campaign,
    not_editable_redirect,
    redirect,
    sentence,
    step_links,
)
from herald.web.templating import render

router = APIRouter(include_in_schema=False)

SEND_NOW = "now"
SCHEDULE = "schedule"
START = "start"
UNSCHEDULE = "unschedule"
DEFAULT_TIME = "09:00"


@cache
def timezone_names() -> tuple[str, ...]:
    """IANA zones for the picker (the host-dependent pseudo-zones left out)."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


@router.get("/campaigns/{campaign_id:int}/review")
def review_page(
    request: Request, herald: HeraldDep, who: CurrentUser, campaign_id: int
) -> Response:
    campaign = load_campaign(herald, campaign_id)
    if (moved := not_editable_redirect(campaign)) is not None:
        return moved
    # The checks verify WhatsApp template steps against the cached template lists.
    herald.whatsapp_templates.ensure_fresh_for_journey(campaign.journey)
    return _render(request, herald, campaign_id)


@router.post("/campaigns/{campaign_id:int}/review")
def start_campaign(
    request: Request,
    herald: HeraldDep,
    who: RequireWrite,
    campaign_id: int,
    when: Annotated[str, Form(max_length=20)] = SEND_NOW,
    date: Annotated[str, Form(max_length=20)] = "",
    time: Annotated[str, Form(max_length=20)] = "",
    timezone: Annotated[str, Form(max_length=100)] = "",
    utc_offset: Annotated[str, Form(max_length=10)] = "",
    go: Annotated[str, Form(max_length=20)] = START,
) -> Response:
    """Start (``go=start``), unschedule a scheduled campaign (``go=unschedule``: back to
    draft, so incomplete changes can be saved), or keep the chosen start as planned and
    leave for another step."""
    entered = {
        "when": when,
        "date": date,
        "time": time,
        "timezone": timezone,
        "utc_offset": utc_offset,
    }
    try:
        with herald.sessions() as db:
            if go == START:
                _start(herald, db, campaign_id, entered)
            elif go == UNSCHEDULE:
                herald.campaigns.unschedule(db, campaign_id)
                return redirect(f"/campaigns/{campaign_id}/review")
            else:
                _keep_plan(herald, db, campaign_id, entered)
    except HeraldError as exc:
        if not isinstance(exc, ValidationError):
            raise
        return _render(request, herald, campaign_id, entered=entered, error=exc, status=422)
    if go == START:
        return redirect(f"/campaigns/{campaign_id}")
    return redirect(destination(campaign_id, "review", go))


def _local(entered: dict[str, str]) -> str:
    date, time = entered["date"].strip(), entered["time"].strip()
    if not date or not time:
        missing = "date" if not date else "time"
        raise ValidationError(
            f"choose a {missing} to schedule the campaign, or send it now", field=missing
        )
    return f"{date} {time}"


def _start(herald: Herald, db: Session, campaign_id: int, entered: dict[str, str]) -> None:
    if entered["when"] == SCHEDULE:
        herald.campaigns.schedule(
            db,
            campaign_id,
            local=_local(entered),
            timezone=entered["timezone"].strip(),
            utc_offset=entered["utc_offset"].strip() or None,
        )
    else:
        herald.campaigns.launch(db, campaign_id)


def _keep_plan(herald: Herald, db: Session, campaign_id: int, entered: dict[str, str]) -> None:
    """ "Save & exit" keeps a chosen start as the draft's planned start."""
    if entered["when"] != SCHEDULE or not entered["date"].strip():
        return
    plan = schedule_spec(
        _local(entered), entered["timezone"].strip(), entered["utc_offset"].strip() or None
    )
    herald.campaigns.update_draft(db, campaign_id, schedule=plan)


def _schedule_values(review: Review) -> dict[str, str]:
    schedule = review.schedule
    if schedule is None:
        return {
            "when": SEND_NOW,
            "date": "",
            "time": DEFAULT_TIME,
            "timezone": "",
            "utc_offset": "",
        }
    date, _, time = schedule.local.partition(" ")
    return {
        "when": SCHEDULE,
        "date": date,
        "time": time[:5],
        "timezone": schedule.timezone,
        "utc_offset": schedule.utc_offset or "",
    }


def duration(seconds: float | None) -> str:
    """Sending time for people: ``under a second``, ``3 min 20 s``, ``2 h 5 min``."""
    if seconds is None:
        return "unknown (an integration has no rate limit set)"
    whole = round(seconds)
    if whole < 1:
        return "under a second"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours:,} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _render(
    request: Request,
    herald: Herald,
    campaign_id: int,
    *,
    entered: dict[str, str] | None = None,
    error: HeraldError | None = None,
    status: int = 200,
) -> Response:
    with herald.sessions() as db:
        review = herald.campaigns.review(db, campaign_id)
    blocking = error.findings if isinstance(error, LaunchBlockedError) else ()
    context = {
        "campaign": review.campaign,
        "steps": step_links(campaign_id, "review"),
        "review": review,
        "schedule": entered or _schedule_values(review),
        "timezones": timezone_names(),
        "duration": duration,
        "error": None if error is None else _error_text(error),
        "blocking": blocking,
        "notice": None,
    }
    return render(request, "campaigns/review.html", context, status_code=status)


def _error_text(error: HeraldError) -> str:
    if isinstance(error, LaunchBlockedError):
        return sentence(error.intro) + " Fix what is listed below."
    return sentence(error.message)
