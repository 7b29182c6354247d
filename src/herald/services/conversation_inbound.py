"""Conversations as the workers feed them: opened by sends, grown by replies.

Three hooks, each called by a worker inside its own transaction:

- :func:`open_campaign_conversations` (journey worker): a journey's first
  message on a channel opens the conversation for that journey and channel,
  with the campaign's tags and pinned agent version. One bulk statement per
  batch; the campaign messages themselves are never copied (threads read
  them from ``messages``).
- :class:`InboundRecorder` (event router): every message a person sends is
  stored in its conversation — the journey's when routing found one (the
  campaign that reached the person most recently), else an untagged
  conversation of its own — and queued for the agent unless it was an
  opt-out or opt-in keyword, the address is suppressed, or a person has
  taken the conversation over.
- :func:`record_reply_statuses` (event router): delivery statuses of replies.

When a campaign pins no agent version, conversations get the latest
published version of the built-in agent (and so do unknown senders).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.agents.default import DEFAULT_AGENT_NAME
from herald.channels.base import DeliveryUpdate, InboundMessage
from herald.clock import Clock
from herald.domain.channels import CHANNEL_OF_KIND, Channel, IntegrationKind
from herald.domain.conversations import (
    AgentStatus,
    ConversationStatus,
    address_thread_key,
    journey_thread_key,
)
from herald.engine.batch import RecordedSend
from herald.engine.router import InboundRoute
from herald.services import agents
from herald.services.optout import KeywordOutcome, sender_address
from herald.services.suppression import is_suppressed
from herald.store.campaign_conversations import open_for_messages, tag_new_conversations
from herald.store.campaigns import CampaignRow
from herald.store.conversations import (
    ConversationSeed,
    NewInbound,
    add_inbound,
    find_or_open,
)
from herald.store.integrations import IntegrationRow
from herald.store.journeys import MESSAGES
from herald.store.reply_statuses import ReplyStatusUpdate, apply_reply_statuses


@dataclass
class DefaultAgent:
    """The built-in agent's latest published version, looked up once per process."""

    version_id: int | None = None

    def resolve(self, session: Session) -> int | None:
        if self.version_id is None:
            agent = agents.find_agent_by_name(session, DEFAULT_AGENT_NAME)
            if agent is not None:
                version = agents.latest_published_version(session, agent.id)
                self.version_id = version.id if version else None
        return self.version_id


def open_campaign_conversations(
    session: Session, sends: Sequence[RecordedSend], default_agent: DefaultAgent
) -> None:
    """Open the conversations of a batch's first sends (existing ones are left alone)."""
    if not sends:
        return
    now = max(send.at for send in sends)
    created = open_for_messages(
        session,
        [send.key for send in sends],
        now,
        default_agent_version_id=default_agent.resolve(session),
    )
    tags = {send.campaign_id: send.campaign_tags for send in sends}
    tag_new_conversations(session, created, tags, now)


@dataclass
class InboundRecorder:
    """Stores inbound messages in conversations; the router's hook, after opt-out keywords."""

    clock: Clock
    default_agent: DefaultAgent = field(default_factory=DefaultAgent)

    def record(
        self,
        session: Session,
        message: InboundMessage,
        route: InboundRoute,
        keywords: KeywordOutcome,
    ) -> None:
        channel = CHANNEL_OF_KIND[message.provider]
        seed = self._seed(session, message, route, channel)
        conversation = find_or_open(session, seed)
        status, note = _agent_status(session, keywords, seed, conversation.status)
        inbound = NewInbound(
            key=message.dedupe_key,
            channel=channel,
            text=message.text,
            at=message.received_at,
            provider_message_id=message.provider_message_id,
            payload=message.payload,
            subject=message.subject,
            thread_ids=message.in_reply_to,
            agent_status=status,
            note=note,
        )
        add_inbound(session, conversation, inbound, self.clock.now())

    def _seed(
        self, session: Session, message: InboundMessage, route: InboundRoute, channel: Channel
    ) -> ConversationSeed:
        address = _canonical(sender_address(message))
        integration_id = _integration_for(session, message, route.journey_id, channel)
        now = self.clock.now()
        if route.journey_id is None or route.campaign_id is None:
            return ConversationSeed(
                thread_key=address_thread_key(channel, integration_id, address),
                channel=channel,
                address=address,
                at=now,
                integration_id=integration_id,
                agent_version_id=self.default_agent.resolve(session),
            )
        campaign = session.get(CampaignRow, route.campaign_id)
        pinned = campaign.agent_version_id if campaign else None
        return ConversationSeed(
            thread_key=journey_thread_key(route.journey_id, channel),
            channel=channel,
            address=address,
            at=now,
            integration_id=integration_id,
            campaign_id=route.campaign_id,
            journey_id=route.journey_id,
            agent_version_id=pinned or self.default_agent.resolve(session),
            tags=(campaign.tag, *campaign.extra_tags) if campaign else (),
        )


def _agent_status(
    session: Session,
    keywords: KeywordOutcome,
    seed: ConversationSeed,
    status: ConversationStatus,
) -> tuple[AgentStatus, str | None]:
    """Whether the agent answers this message, and why not."""
    if keywords.detection.is_opt_out:
        return AgentStatus.SKIPPED, f"opt-out ({keywords.detection.matched})"
    if keywords.detection.is_opt_in:
        return AgentStatus.SKIPPED, f"opt-in ({keywords.detection.matched})"
    if status is ConversationStatus.HANDED_OFF:
        return AgentStatus.SKIPPED, "conversation handed off"
    if is_suppressed(session, seed.address, seed.channel):
        return AgentStatus.SKIPPED, "address is suppressed"
    return AgentStatus.QUEUED, None


def _canonical(address: str) -> str:
    return address.strip().lower() if "@" in address else address.strip()


# --- which of our numbers the person wrote to ----------------------------------------


def _integration_for(
    session: Session, message: InboundMessage, journey_id: int | None, channel: Channel
) -> int | None:
    """The integration that answers: the journey's on this channel, else the one written to.

    Else the only integration of the provider, when there is exactly one.
    """
    if journey_id is not None:
        used = session.scalar(
            select(MESSAGES.c.integration_id)
            .where(MESSAGES.c.journey_id == journey_id, MESSAGES.c.channel == channel.value)
            .order_by(MESSAGES.c.step.desc())
            .limit(1)
        )
        if used is not None:
            return int(used)
    rows = session.execute(
        select(IntegrationRow.id, IntegrationRow.settings, IntegrationRow.is_active).where(
            IntegrationRow.kind == message.provider.value
        )
    ).all()
    wanted = _address_form(message.recipient)
    for row in rows:
        if wanted and wanted in _our_addresses(message.provider, row.settings):
            return int(row.id)
    active = [row.id for row in rows if row.is_active]
    return int(active[0]) if len(active) == 1 else None


def _our_addresses(kind: IntegrationKind, settings: dict[str, object]) -> set[str]:
    names = {
        IntegrationKind.WHATSAPP: ("phone_number_id",),
        IntegrationKind.INFOBIP_SMS: ("sender",),
        IntegrationKind.TWILIO_VOICE: ("caller_id",),
        IntegrationKind.EMAIL_SMTP: ("from_address", "reply_to_address"),
    }[kind]
    return {_address_form(str(settings[name])) for name in names if settings.get(name)}


def _address_form(address: str) -> str:
    """Comparable form: digits of a number; an email without its ``+tag``, lower-cased."""
    address = address.strip().lower()
    if "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local.split('+', 1)[0]}@{domain}"
    digits = "".join(ch for ch in address if ch.isdigit())
    return digits or address


# --- statuses of replies -----------------------------------------------------------


def record_reply_statuses(
    session: Session, updates: Sequence[DeliveryUpdate], clock: Clock
) -> set[str]:
    """Statuses that matched no journey: those of replies move the replies forward."""
    return apply_reply_statuses(
        session,
        [
            ReplyStatusUpdate(
                provider_message_id=update.provider_message_id,
                status=update.status.value,
                correlation_key=update.correlation_key,
                error_code=update.failure.code if update.failure else None,
                error_detail=update.failure.title if update.failure else None,
            )
            for update in updates
        ],
        clock.now(),
    )
