"""``/api/v1/conversations``: threads with contacts; filter, read, reply, hand off, close.

A reply from a person hands the conversation off (the agent stops
answering it) and is queued for the reply worker, which sends it on the
contact's channel. ``reference`` makes a reply idempotent on its own: a
second reply with the same reference returns the first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from herald.domain.channels import Channel
from herald.domain.conversations import ConversationStatus
from herald.services.conversation_replies import MAX_REFERENCE_LENGTH, send_user_reply
from herald.services.conversations import (
    MAX_PAGE_SIZE,
    MAX_SEARCH_LENGTH,
    ConversationServices,
    ConversationView,
)
from herald.store.conversation_threads import ThreadMessage
from herald.web.api import API_PREFIX
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import IdQuery, ResourceId
from herald.web.auth import CurrentUser, RequireWrite
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(
    prefix=f"{API_PREFIX}/conversations", tags=["conversations"], route_class=IdempotentRoute
)


class ConversationOut(BaseModel):
    id: int
    channel: Channel
    address: str = Field(description="The contact's phone (E.164) or email.")
    status: ConversationStatus
    tags: list[str]
    campaign_id: int | None
    campaign_name: str | None
    journey_id: int | None
    integration_id: int | None
    agent_version_id: int | None
    outcome: str | None
    hand_off_reason: str | None
    unread_count: int
    created_at: datetime
    last_message_at: datetime
    last_inbound_at: datetime | None
    preview: str | None = Field(default=None, description="The last message, in lists.")

    @classmethod
    def of(cls, view: ConversationView) -> ConversationOut:
        return cls.model_validate(view, from_attributes=True)


class ConversationPageOut(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class MessageOut(BaseModel):
    id: int = Field(description="Unique per author kind.")
    author: str = Field(description="`contact`, `agent`, `user` or `campaign`.")
    direction: str
    channel: Channel
    text: str
    at: datetime
    status: str
    provider_message_id: str | None

    @classmethod
    def of(cls, message: ThreadMessage) -> MessageOut:
        return cls(
            id=message.id,
            author=str(message.author),
            direction=str(message.direction),
            channel=message.channel,
            text=message.text,
            at=message.at,
            status=message.status,
            provider_message_id=message.provider_message_id,
        )


class ThreadOut(BaseModel):
    conversation: ConversationOut
    messages: list[MessageOut] = Field(description="Oldest first, campaign messages included.")


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096, examples=["Thanks, see you on Monday!"])
    reference: str | None = Field(
        default=None,
        max_length=MAX_REFERENCE_LENGTH,
        description="Your id for this reply; a repeat with the same reference is a no-op.",
    )


class ReplyOut(BaseModel):
    conversation: ConversationOut
    reply: MessageOut | None


class TagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=20, examples=[["needs-callback"]]
    )


class HandOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500, examples=["asked about billing"])


@router.get("", response_model=ConversationPageOut)
def list_conversations(
    herald: HeraldDep,
    db: SessionDep,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    campaign_id: IdQuery = None,
    channel: Channel | None = None,
    status: ConversationStatus | None = None,
    q: Annotated[
        str | None, Query(max_length=MAX_SEARCH_LENGTH, description="Text in the address.")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> ConversationPageOut:
    """Conversations with the latest message first, filtered."""
    page = ConversationServices(herald.clock).list(
        db,
        tag=tag,
        campaign_id=campaign_id,
        channel=channel,
        status=status,
        text=q,
        limit=limit,
        cursor=cursor,
    )
    return ConversationPageOut(
        items=[ConversationOut.of(view) for view in page.items], next_cursor=page.next_cursor
    )


@router.get("/{conversation_id}", response_model=ThreadOut)
def thread(conversation_id: ResourceId, herald: HeraldDep, db: SessionDep) -> ThreadOut:
    detail = ConversationServices(herald.clock).get(db, conversation_id)
    return ThreadOut(
        conversation=ConversationOut.of(detail.conversation),
        messages=[MessageOut.of(message) for message in detail.messages],
    )


@router.post("/{conversation_id}/replies", response_model=ReplyOut, status_code=201)
def reply(
    conversation_id: ResourceId, body: ReplyIn, herald: HeraldDep, db: SessionDep, who: CurrentUser
) -> ReplyOut:
    """Queue a reply from a person; the conversation is handed off to people."""
    posted = send_user_reply(
        db,
        conversation_id,
        body.text,
        clock=herald.clock,
        author_name=who.name,
        reference=body.reference,
    )
    return ReplyOut(
        conversation=ConversationOut.of(posted.conversation),
        reply=MessageOut.of(posted.reply) if posted.reply else None,
    )


@router.post("/{conversation_id}/hand-off", response_model=ConversationOut)
def hand_off(
    conversation_id: ResourceId,
    body: HandOffIn,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
) -> ConversationOut:
    """A person takes over: the agent no longer answers."""
    view = ConversationServices(herald.clock).hand_off(db, conversation_id, reason=body.reason)
    return ConversationOut.of(view)


@router.post("/{conversation_id}/return-to-agent", response_model=ConversationOut)
def return_to_agent(
    conversation_id: ResourceId, herald: HeraldDep, db: SessionDep, _who: RequireWrite
) -> ConversationOut:
    view = ConversationServices(herald.clock).return_to_agent(db, conversation_id)
    return ConversationOut.of(view)


@router.post("/{conversation_id}/close", response_model=ConversationOut)
def close(
    conversation_id: ResourceId, herald: HeraldDep, db: SessionDep, _who: RequireWrite
) -> ConversationOut:
    view = ConversationServices(herald.clock).close(db, conversation_id)
    return ConversationOut.of(view)


@router.post("/{conversation_id}/reopen", response_model=ConversationOut)
def reopen(
    conversation_id: ResourceId, herald: HeraldDep, db: SessionDep, _who: RequireWrite
) -> ConversationOut:
    view = ConversationServices(herald.clock).reopen(db, conversation_id)
    return ConversationOut.of(view)


@router.post("/{conversation_id}/read", response_model=ConversationOut)
def mark_read(
    conversation_id: ResourceId, herald: HeraldDep, db: SessionDep, _who: RequireWrite
) -> ConversationOut:
    """Clear the unread count."""
    return ConversationOut.of(ConversationServices(herald.clock).mark_read(db, conversation_id))


@router.post("/{conversation_id}/tags", response_model=ConversationOut)
def add_tags(
    conversation_id: ResourceId, body: TagsIn, herald: HeraldDep, db: SessionDep, _who: RequireWrite
) -> ConversationOut:
    """Tag the conversation (lower-case words joined by `-` or `_`); tags it has are kept."""
    view = ConversationServices(herald.clock).add_tags(db, conversation_id, body.tags)
    return ConversationOut.of(view)


@router.delete("/{conversation_id}/tags", response_model=ConversationOut)
def remove_tags(
    conversation_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    tag: Annotated[list[str], Query(min_length=1, max_length=20)],
) -> ConversationOut:
    """Remove tags, campaign tags included (`?tag=a&tag=b`); absent ones are ignored."""
    view = ConversationServices(herald.clock).remove_tags(db, conversation_id, tag)
    return ConversationOut.of(view)
