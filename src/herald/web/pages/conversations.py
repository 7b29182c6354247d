"""Conversations: the filtered list and the thread view with hand-off.

Everything goes through :class:`herald.services.conversations.ConversationServices`
and :func:`herald.services.conversation_replies.send_user_reply`. The list
pages with the service's opaque cursor (newest activity first); opening a
thread marks it read. Who answers is a switch: the agent (``open``) or a
person (``handed_off``); a person's reply also hands the conversation off.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from herald.domain.channels import Channel
from herald.domain.conversations import REPLY_MAX_CHARS, ConversationStatus
from herald.errors import ConflictError, ValidationError
from herald.services.campaign_activity import StepInfo, step_layout
from herald.services.container import Herald
from herald.services.conversation_replies import send_user_reply
from herald.services.conversations import ConversationPage, ConversationServices
from herald.web.auth import CurrentUser, RequireWrite
from herald.web.deps import HeraldDep
from herald.web.pages.campaign_detail_common import page_size, sentence, whole_number
from herald.web.pages.conversations_thread import thread_context
from herald.web.templating import render

router = APIRouter(include_in_schema=False)

CHANNELS = tuple(channel.value for channel in Channel)
STATUSES = tuple(status.value for status in ConversationStatus)
MAX_CAMPAIGN_CHOICES = 200
# The moves each button makes, and what the page says afterwards.
MOVES = {
    "hand-off": ("hand_off", "The agent is off: your team answers this conversation."),
    "return": ("return_to_agent", "The agent is on again and answers the next message."),
    "close": ("close", "Conversation closed."),
    "reopen": ("reopen", "Conversation reopened."),
}
NOTICES = {name: notice for name, (_, notice) in MOVES.items()} | {
    "replied": "Reply queued: it goes out within a few seconds, and the agent stays off.",
    "tagged": "Tags added.",
    "untagged": "Tag removed.",
}


@router.get("/conversations")
def conversations_page(
    request: Request,
    herald: HeraldDep,
    who: CurrentUser,
    tag: str = "",
    campaign_id: str = "",
    channel: str = "",
    status: str = "",
    q: str = "",
    cursor: str = "",
    limit: str = "",
) -> Response:
    filters = {
        "tag": tag.strip(),
        "campaign_id": campaign_id.strip(),
        "channel": channel.strip(),
        "status": status.strip(),
        "q": q,
        "limit": limit.strip(),
    }
    services = ConversationServices(herald.clock)
    error = None
    try:
        with herald.read_sessions() as session:
            page = services.list(
                session,
                tag=filters["tag"] or None,
                campaign_id=(
                    whole_number(filters["campaign_id"], field="campaign_id")
                    if filters["campaign_id"]
                    else None
                ),
                channel=filters["channel"] or None,
                status=filters["status"] or None,
                text=q or None,
                limit=page_size(limit),
                cursor=cursor or None,
            )
    except ValidationError as exc:
        page, error = ConversationPage((), None), sentence(exc.message)
    with herald.read_sessions() as session:
        campaigns = herald.campaigns.list(session)[:MAX_CAMPAIGN_CHOICES]
    context = {
        "page": page,
        "filters": filters,
        "is_first_page": not cursor,
        "channels": CHANNELS,
        "statuses": STATUSES,
        "campaigns": [c for c in campaigns if c.status.value != "draft"],
        "error": error,
    }
    return render(request, "conversations/list.html", context, status_code=422 if error else 200)


@router.get("/conversations/{conversation_id:int}")
def thread_page(
    request: Request, herald: HeraldDep, who: CurrentUser, conversation_id: int, done: str = ""
) -> Response:
    services = ConversationServices(herald.clock)
    with herald.sessions() as session:
        # Reading the thread is what "read" means; a read-only API key only looks.
        if who.can_write:
            services.mark_read(session, conversation_id)
        detail = services.get(session, conversation_id)
        steps = _steps(herald, session, detail.conversation.campaign_id)
    context = thread_context(detail, steps=steps, notice=NOTICES.get(done), reference=_reference())
    return render(request, "conversations/thread.html", context)


@router.post("/conversations/{conversation_id:int}/reply")
def reply(
    request: Request,
    herald: HeraldDep,
    who: RequireWrite,
    conversation_id: int,
    text: Annotated[str, Form(max_length=REPLY_MAX_CHARS * 2)] = "",
    reference: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    try:
        with herald.sessions() as session:
            send_user_reply(
                session,
                conversation_id,
                text,
                clock=herald.clock,
                author_name=who.name,
                reference=reference or None,
            )
    except ValidationError as exc:
        return _thread_error(request, herald, conversation_id, sentence(exc.message), 422, text)
    except ConflictError as exc:
        return _thread_error(request, herald, conversation_id, sentence(exc.message), 409, text)
    return RedirectResponse(f"/conversations/{conversation_id}?done=replied", status_code=303)


@router.post("/conversations/{conversation_id:int}/tags")
def add_tags(
    request: Request,
    herald: HeraldDep,
    who: RequireWrite,
    conversation_id: int,
    tags: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Tags typed by a person, separated by commas (never rewritten: a bad one is refused
    with the spelling that would be accepted)."""
    names = [name.strip() for name in tags.split(",") if name.strip()]
    try:
        if not names:
            raise ValidationError("type a tag to add", field="tags")
        with herald.sessions() as session:
            ConversationServices(herald.clock).add_tags(session, conversation_id, names)
    except ValidationError as exc:
        return _thread_error(request, herald, conversation_id, sentence(exc.message), 422)
    return RedirectResponse(f"/conversations/{conversation_id}?done=tagged", status_code=303)


@router.post("/conversations/{conversation_id:int}/tags/remove")
def remove_tag(
    request: Request,
    herald: HeraldDep,
    who: RequireWrite,
    conversation_id: int,
    tag: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        with herald.sessions() as session:
            ConversationServices(herald.clock).remove_tags(session, conversation_id, [tag])
    except ValidationError as exc:
        return _thread_error(request, herald, conversation_id, sentence(exc.message), 422)
    return RedirectResponse(f"/conversations/{conversation_id}?done=untagged", status_code=303)


@router.post("/conversations/{conversation_id:int}/{move:str}")
def move_conversation(
    request: Request, herald: HeraldDep, who: RequireWrite, conversation_id: int, move: str
) -> Response:
    if move not in MOVES:
        raise ValidationError(
            f"unknown action {move[:40]!r}; use one of {', '.join(MOVES)}", field="move"
        )
    services = ConversationServices(herald.clock)
    try:
        with herald.sessions() as session:
            getattr(services, MOVES[move][0])(session, conversation_id)
    except ConflictError as exc:
        return _thread_error(request, herald, conversation_id, sentence(exc.message), 409)
    return RedirectResponse(f"/conversations/{conversation_id}?done={move}", status_code=303)


def _thread_error(
    request: Request,
    herald: HeraldDep,
    conversation_id: int,
    error: str,
    status_code: int,
    draft: str = "",
) -> Response:
    with herald.read_sessions() as session:
        detail = ConversationServices(herald.clock).get(session, conversation_id)
        steps = _steps(herald, session, detail.conversation.campaign_id)
    context = thread_context(detail, steps=steps, error=error, draft=draft, reference=_reference())
    return render(request, "conversations/thread.html", context, status_code=status_code)


def _steps(herald: Herald, session: Session, campaign_id: int | None) -> tuple[StepInfo, ...]:
    """The campaign's steps, to name which step each campaign message was."""
    if campaign_id is None:
        return ()
    return step_layout(herald.campaigns.get(session, campaign_id))


def _reference() -> str:
    """A fresh id for the reply form, so a form sent twice queues one reply."""
    return "web-" + secrets.token_urlsafe(12)
