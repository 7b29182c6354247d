"""What an agent sees when a message arrives: the conversation, the contact, the campaign.

Built for a whole batch of conversations with a handful of queries (threads,
contacts, campaigns), never one per message.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from herald.domain.agents import (
    AgentContext,
    CampaignInfo,
    ContactProfile,
    ConversationMessage,
    Direction,
)
from herald.domain.channels import Channel
from herald.domain.conversations import Author
from herald.store.conversation_threads import (
    ThreadMessage,
    load_campaigns,
    load_contacts,
    load_threads,
)
from herald.store.conversation_work import QueuedInbound
from herald.store.conversations import ConversationRecord

# Messages that never reached the person are not part of what they saw.
NOT_REACHED = frozenset({"pending", "queued", "retry_wait", "rejected", "suppressed", "not_sent"})


class ContextBuilder:
    def __init__(self, session: Session, conversations: Sequence[ConversationRecord]) -> None:
        self._threads = load_threads(session, conversations)
        journeys = [c.journey_id for c in conversations if c.journey_id is not None]
        self._contacts = load_contacts(session, journeys)
        campaigns = [c.campaign_id for c in conversations if c.campaign_id is not None]
        self._campaigns = load_campaigns(session, campaigns)

    def context(
        self, conversation: ConversationRecord, inbound: QueuedInbound
    ) -> tuple[AgentContext, str | None]:
        """The agent's context for ``inbound``, and the campaign's name (if any)."""
        campaign = self._campaign(conversation)
        context = AgentContext(
            inbound=ConversationMessage(
                direction=Direction.INBOUND,
                channel=inbound.channel,
                text=inbound.text,
                at=inbound.at,
                payload=inbound.payload,
            ),
            contact=self._contact(conversation),
            campaign=campaign,
            conversation=self._history(conversation.id, inbound.id),
            conversation_id=str(conversation.id),
        )
        return context, campaign.name if campaign else None

    def _history(self, conversation_id: int, inbound_id: int) -> tuple[ConversationMessage, ...]:
        history = []
        for message in self._threads.get(conversation_id, []):
            if message.author is Author.CONTACT and message.id == inbound_id:
                break
            if message.status not in NOT_REACHED:
                history.append(_as_agent_message(message))
        return tuple(history)

    def _contact(self, conversation: ConversationRecord) -> ContactProfile:
        if conversation.journey_id is not None and conversation.journey_id in self._contacts:
            return self._contacts[conversation.journey_id]
        if conversation.channel is Channel.EMAIL:
            return ContactProfile(email=conversation.address)
        return ContactProfile(phone=conversation.address)

    def _campaign(self, conversation: ConversationRecord) -> CampaignInfo | None:
        if conversation.campaign_id is None:
            return None
        return self._campaigns.get(conversation.campaign_id)


def _as_agent_message(message: ThreadMessage) -> ConversationMessage:
    return ConversationMessage(
        direction=message.direction,
        channel=message.channel,
        text=message.text,
        at=message.at,
        payload=message.payload,
    )
