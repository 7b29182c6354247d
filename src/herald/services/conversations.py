"""Conversation use cases: find them, read them, tag them, decide who answers.

Shared by the API, the UI and the CLI. Mutating calls commit. Replies by
users and bots live in :mod:`herald.services.conversation_replies`.

Filters (all optional, combined with AND): a tag, a campaign, a channel, a
status, and a text searched case-insensitively in the address, in what was
said in the conversation and in the campaign's messages to it. Pages are
ordered by last activity, newest first, and continue with an opaque cursor
that stays valid while conversations move (no offset to skip or repeat
rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.channels import Channel
from herald.domain.conversations import (
    MAX_TAGS_PER_CONVERSATION,
    Author,
    ConversationAction,
    ConversationId,
    ConversationStatus,
    Cursor,
    clean_user_tags,
    next_conversation_status,
)
from herald.errors import NotFoundError, ValidationError
from herald.store import conversation_tags as tags_store
from herald.store import conversations as store
from herald.store.conversation_threads import (
    ConversationFilter,
    ThreadMessage,
    latest_texts,
    load_campaigns,
    load_threads,
    search_conversations,
)
from herald.store.conversations import ConversationRecord

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True)
class ConversationView:
    id: ConversationId
    channel: Channel
    address: str
    status: ConversationStatus
    tags: tuple[str, ...]
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
    preview: str | None = None  # the last message's text, in lists


@dataclass(frozen=True)
class ConversationPage:
    items: tuple[ConversationView, ...]
    next_cursor: str | None  # None on the last page


@dataclass(frozen=True)
class ConversationDetail:
    conversation: ConversationView
    messages: tuple[ThreadMessage, ...]  # oldest first


class ConversationServices:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def list(
        self,
        session: Session,
        *,
        tag: str | None = None,
        campaign_id: int | None = None,
        channel: Channel | str | None = None,
        status: ConversationStatus | str | None = None,
        text: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> ConversationPage:
        """One page of conversations matching every given filter."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError(f"limit must be 1 to {MAX_PAGE_SIZE}", field="limit")
        where = ConversationFilter(
            tag=clean_user_tags([tag], field="tag")[0] if tag is not None else None,
            campaign_id=campaign_id,
            channel=_enum(Channel, channel, "channel"),
            status=_enum(ConversationStatus, status, "status"),
            text=_search_text(text),
        )
        after = Cursor.decode(cursor) if cursor else None
        records = search_conversations(session, where, limit=limit + 1, after=after)
        page, more = records[:limit], len(records) > limit
        views = _views(session, page, previews=True)
        last = page[-1] if more else None
        next_cursor = Cursor(last.last_message_at, last.id).encode() if last else None
        return ConversationPage(tuple(views), next_cursor)

    def get(self, session: Session, conversation_id: int) -> ConversationDetail:
        """A conversation with every message, campaign messages included, oldest first."""
        record = _get(session, conversation_id)
        thread = load_threads(session, [record])[record.id]
        return ConversationDetail(_views(session, [record])[0], tuple(thread))

    def view(self, session: Session, conversation_id: int) -> ConversationView:
        return conversation_view(session, conversation_id)

    def mark_read(self, session: Session, conversation_id: int) -> ConversationView:
        _get(session, conversation_id)
        store.mark_read(session, conversation_id, self._clock.now())
        session.commit()
        return self.view(session, conversation_id)

    # -- tags -----------------------------------------------------------------

    def add_tags(
        self, session: Session, conversation_id: int, tags: Sequence[str]
    ) -> ConversationView:
        """Tag a conversation (tags it already has are kept as they are)."""
        cleaned = clean_user_tags(list(tags))
        _get(session, conversation_id, for_update=True)
        existing = tags_store.tags_of(session, [conversation_id])[conversation_id]
        if len(set(existing) | set(cleaned)) > MAX_TAGS_PER_CONVERSATION:
            raise ValidationError(
                f"a conversation takes at most {MAX_TAGS_PER_CONVERSATION} tags", field="tags"
            )
        tags_store.add_tags(session, conversation_id, cleaned, Author.USER, self._clock.now())
        session.commit()
        return self.view(session, conversation_id)

    def remove_tags(
        self, session: Session, conversation_id: int, tags: Sequence[str]
    ) -> ConversationView:
        """Remove tags, campaign tags included; removing a tag it lacks is not an error."""
        cleaned = clean_user_tags(list(tags))
        _get(session, conversation_id, for_update=True)
        tags_store.remove_tags(session, conversation_id, cleaned)
        session.commit()
        return self.view(session, conversation_id)

    # -- who answers ------------------------------------------------------------

    def hand_off(
        self, session: Session, conversation_id: int, *, reason: str | None = None
    ) -> ConversationView:
        """A person takes over: the agent no longer answers this conversation."""
        note = (reason or "").strip()[:500] or "handed off by a user"
        return self._move(session, conversation_id, ConversationAction.HAND_OFF, note)

    def return_to_agent(self, session: Session, conversation_id: int) -> ConversationView:
        """The agent answers again, from the next message on."""
        return self._move(session, conversation_id, ConversationAction.RETURN_TO_AGENT)

    def close(self, session: Session, conversation_id: int) -> ConversationView:
        return self._move(session, conversation_id, ConversationAction.CLOSE)

    def reopen(self, session: Session, conversation_id: int) -> ConversationView:
        return self._move(session, conversation_id, ConversationAction.REOPEN)

    def _move(
        self,
        session: Session,
        conversation_id: int,
        action: ConversationAction,
        reason: str | None = None,
    ) -> ConversationView:
        record = _get(session, conversation_id, for_update=True)
        target = next_conversation_status(record.status, action)
        store.set_status(session, conversation_id, target, self._clock.now(), reason=reason)
        session.commit()
        return self.view(session, conversation_id)


def _views(
    session: Session, records: Sequence[ConversationRecord], *, previews: bool = False
) -> list[ConversationView]:
    ids = [r.id for r in records]
    tags = tags_store.tags_of(session, ids)
    campaign_ids = [r.campaign_id for r in records if r.campaign_id is not None]
    campaigns = load_campaigns(session, campaign_ids)
    texts = latest_texts(session, records) if previews else {}
    return [
        to_view(
            r,
            tags[r.id],
            campaigns[r.campaign_id].name if r.campaign_id in campaigns else None,
            texts.get(r.id),
        )
        for r in records
    ]


def to_view(
    record: ConversationRecord,
    tags: tuple[str, ...],
    campaign_name: str | None,
    preview: str | None = None,
) -> ConversationView:
    return ConversationView(
        id=ConversationId(record.id),
        channel=record.channel,
        address=record.address,
        status=record.status,
        tags=tags,
        campaign_id=record.campaign_id,
        campaign_name=campaign_name,
        journey_id=record.journey_id,
        integration_id=record.integration_id,
        agent_version_id=record.agent_version_id,
        outcome=record.outcome,
        hand_off_reason=record.hand_off_reason,
        unread_count=record.unread_count,
        created_at=record.created_at,
        last_message_at=record.last_message_at,
        last_inbound_at=record.last_inbound_at,
        preview=preview,
    )


def get_conversation_record(
    session: Session, conversation_id: int, *, for_update: bool = False
) -> ConversationRecord:
    """The stored conversation, or NotFoundError naming ``conversation_id``."""
    record = store.find_conversation(session, conversation_id, for_update=for_update)
    if record is None:
        raise NotFoundError(
            f"conversation {conversation_id} does not exist", field="conversation_id"
        )
    return record


_get = get_conversation_record


def conversation_view(session: Session, conversation_id: int) -> ConversationView:
    return _views(session, [_get(session, conversation_id)])[0]


E = TypeVar("E", Channel, ConversationStatus)


def _enum(kind: type[E], value: E | str | None, field: str) -> E | None:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValidationError(f"{field} {value!r} is not one of {allowed}", field=field) from None


def _search_text(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > MAX_SEARCH_LENGTH:
        raise ValidationError(
            f"search text is limited to {MAX_SEARCH_LENGTH} characters", field="text"
        )
    return text.strip()
