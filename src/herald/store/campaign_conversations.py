"""Opening campaign conversations in bulk, on the journey worker's send path.

When a batch records first sends, their conversations are opened by the
database itself: one ``INSERT ... SELECT`` from the batch's new ``messages``
rows (joined to their campaign for the pinned agent version), skipping
threads that exist, then one ``INSERT ... SELECT`` per campaign tag. No row
travels through Python, so the cost per batch stays a few statements
whatever its size.

The thread key built here in SQL is the one
:func:`herald.domain.conversations.journey_thread_key` builds in Python:
``journey:{journey_id}:{channel}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Integer, String, cast, func, literal, select
from sqlalchemy.orm import Session

from herald.domain.conversations import Author, ConversationStatus
from herald.store.campaigns import CampaignRow
from herald.store.conversations import CONVERSATION_TAGS, CONVERSATIONS, moment, upsert
from herald.store.journeys import MESSAGES

CAMPAIGNS = CampaignRow.metadata.tables[CampaignRow.__tablename__]
_OPENED = (
    "thread_key",
    "channel",
    "address",
    "integration_id",
    "campaign_id",
    "journey_id",
    "agent_version_id",
    "status",
    "created_at",
    "updated_at",
    "last_message_at",
    "unread_count",
)


def open_for_messages(
    session: Session,
    message_keys: Sequence[str],
    now: datetime,
    *,
    default_agent_version_id: int | None,
) -> dict[int, list[int]]:
    """Open the conversations of these campaign messages; ``{campaign_id: [new ids]}``.

    A campaign that pins no agent version gets ``default_agent_version_id``.
    Ordered by thread key, so concurrent openers lock index entries in the
    same order.
    """
    if not message_keys:
        return {}
    thread_key = (
        literal("journey:", String) + cast(MESSAGES.c.journey_id, String) + ":" + MESSAGES.c.channel
    )
    opened = (
        select(
            thread_key,
            MESSAGES.c.channel,
            func.lower(MESSAGES.c.to_address),
            MESSAGES.c.integration_id,
            MESSAGES.c.campaign_id,
            MESSAGES.c.journey_id,
            func.coalesce(CAMPAIGNS.c.agent_version_id, literal(default_agent_version_id, Integer)),
            literal(ConversationStatus.OPEN.value, String),
            moment(now),
            moment(now),
            moment(now),
            literal(0, Integer),
        )
        .join(CAMPAIGNS, CAMPAIGNS.c.id == MESSAGES.c.campaign_id)
        # A WHERE clause is also what lets SQLite tell the upsert's ON from a join's.
        .where(MESSAGES.c.key.in_(sorted(set(message_keys))))
        .order_by(thread_key)
    )
    statement = (
        upsert(session)(CONVERSATIONS)
        .from_select(list(_OPENED), opened)
        .on_conflict_do_nothing(index_elements=["thread_key"])
        .returning(CONVERSATIONS.c.id, CONVERSATIONS.c.campaign_id)
    )
    created: dict[int, list[int]] = {}
    for row in session.execute(statement):
        created.setdefault(row.campaign_id, []).append(row.id)
    return created


def tag_new_conversations(
    session: Session,
    created: Mapping[int, Sequence[int]],
    campaign_tags: Mapping[int, Sequence[str]],
    now: datetime,
) -> None:
    """Give new conversations their campaign's tags: one statement per campaign and tag."""
    for campaign_id, conversation_ids in sorted(created.items()):
        for position, tag in enumerate(dict.fromkeys(campaign_tags.get(campaign_id, ()))):
            rows = select(
                CONVERSATIONS.c.id,
                literal(tag, String),
                literal(Author.CAMPAIGN.value, String),
                literal(position, Integer),
                moment(now),
            ).where(CONVERSATIONS.c.id.in_(sorted(conversation_ids)))
            session.execute(
                CONVERSATION_TAGS.insert().from_select(
                    ["conversation_id", "tag", "source", "position", "added_at"], rows
                )
            )
