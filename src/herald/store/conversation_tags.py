"""Conversation tags: campaign tags copied at opening, plus those agents and users add.

Campaign tags keep the campaign's order (the derived tag first); the others
follow in the order they were added (alphabetical when added together).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from herald.domain.conversations import Author
from herald.store.conversations import CONVERSATION_TAGS, MAX_POSITION, upsert


def add_tags(
    session: Session, conversation_id: int, tags: Sequence[str], source: Author, now: datetime
) -> None:
    """Add tags; a tag the conversation has keeps its first source."""
    rows = [
        {
            "conversation_id": conversation_id,
            "tag": tag,
            "source": source.value,
            "position": None,
            "added_at": now,
        }
        for tag in dict.fromkeys(tags)
    ]
    if rows:
        statement = upsert(session)(CONVERSATION_TAGS).values(rows)
        session.execute(statement.on_conflict_do_nothing(index_elements=["conversation_id", "tag"]))


def remove_tags(session: Session, conversation_id: int, tags: Sequence[str]) -> int:
    result = session.execute(
        delete(CONVERSATION_TAGS).where(
            CONVERSATION_TAGS.c.conversation_id == conversation_id,
            CONVERSATION_TAGS.c.tag.in_(list(tags)),
        )
    )
    return int(cast(CursorResult[Any], result).rowcount)


def tags_of(session: Session, conversation_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Each conversation's tags: campaign tags first (in their order), then by time added."""
    if not conversation_ids:
        return {}
    query = (
        select(CONVERSATION_TAGS.c.conversation_id, CONVERSATION_TAGS.c.tag)
        .where(CONVERSATION_TAGS.c.conversation_id.in_(list(conversation_ids)))
        .order_by(
            CONVERSATION_TAGS.c.conversation_id,
            func.coalesce(CONVERSATION_TAGS.c.position, MAX_POSITION),
            CONVERSATION_TAGS.c.added_at,
            CONVERSATION_TAGS.c.tag,
        )
    )
    found: dict[int, list[str]] = {cid: [] for cid in conversation_ids}
    for conversation_id, tag in session.execute(query):
        found[conversation_id].append(tag)
    return {cid: tuple(tags) for cid, tags in found.items()}
