"""Live progress over server-sent events.

``GET /campaigns/{id}/progress/stream`` answers ``text/event-stream``. Each
tick reads the campaign row and its counters (two small queries; the
journeys table is never scanned) and, when anything changed, sends a
``progress`` event whose data is one line of JSON::

    {"status": "running", "completed": 120, "contacts": 300,
     "is_final": false, "html": "<the live panel, rendered>"}

``html`` is the same fragment the page renders on a plain load, so a
refresh and the stream always agree. When the campaign is sent or
cancelled the stream sends that last state, an ``end`` event, and closes;
nothing changes after that. A comment line keeps idle connections open
through proxies.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from herald.services.campaign_monitor import CampaignSnapshot, snapshot
from herald.services.container import Herald
from herald.web.auth import CurrentUser
from herald.web.deps import HeraldDep
from herald.web.pages.campaign_detail_charts import live_context
from herald.web.templating import page_context

router = APIRouter(include_in_schema=False)

TICK_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
RECONNECT_MILLISECONDS = 3000
LIVE_FRAGMENT = "campaign_detail/_live.html"


@router.get("/campaigns/{campaign_id:int}/progress/stream")
async def progress_stream(
    request: Request, herald: HeraldDep, who: CurrentUser, campaign_id: int
) -> StreamingResponse:
    # The first read happens before the response starts, so an unknown
    # campaign is a plain 404 rather than a stream that breaks.
    first = await run_in_threadpool(_load, herald, campaign_id)
    context = await run_in_threadpool(page_context, request)
    return StreamingResponse(
        _events(request, herald, campaign_id, first, context),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request,
    herald: Herald,
    campaign_id: int,
    current: CampaignSnapshot,
    context: dict[str, Any],
) -> AsyncIterator[str]:
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    sent: CampaignSnapshot | None = None
    quiet = 0.0
    while True:
        if current != sent:
            yield event("progress", _payload(request, current, context))
            sent, quiet = current, 0.0
        elif quiet >= HEARTBEAT_SECONDS:
            yield ": still here\n\n"
            quiet = 0.0
        if current.is_final:
            yield event("end", {"status": current.campaign.status.value})
            return
        await asyncio.sleep(TICK_SECONDS)
        quiet += TICK_SECONDS
        if await request.is_disconnected():
            return
        current = await run_in_threadpool(_load, herald, campaign_id)


def _load(herald: Herald, campaign_id: int) -> CampaignSnapshot:
    with herald.read_sessions() as session:
        return snapshot(session, campaign_id)


def _payload(
    request: Request, current: CampaignSnapshot, context: dict[str, Any]
) -> dict[str, Any]:
    templates = request.app.state.templates
    assert isinstance(templates, Jinja2Templates)
    html = templates.get_template(LIVE_FRAGMENT).render(
        {**context, **live_context(current), "request": request}
    )
    return {
        "status": current.campaign.status.value,
        "completed": current.completed,
        "contacts": current.campaign.contact_count,
        "is_final": current.is_final,
        "html": html,
    }


def event(name: str, data: dict[str, Any]) -> str:
    """One server-sent event; JSON has no raw newlines, so one ``data:`` line suffices."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
