"""Turning what people and providers tell us into suppression entries.

The one place that maps each opt-out source onto a reason, scope and detail,
for the reply router and the status webhooks to call:

- :func:`apply_opt_keywords`: an inbound message; STOP-style keywords, opt-out
  payloads and keypresses suppress (reason ``keyword``), START/UNSTOP lift
  the contact's own entries where the channel allows it. Call it before the
  agent: on an opt-out the router sends no agent reply beyond the channel's
  confirmation.
- :func:`record_agent_opt_out`: an agent decided the person opted out.
- :func:`record_provider_opt_out`: WhatsApp 131050, Infobip 603.
- :func:`record_one_click_unsubscribe`: the RFC 8058 POST from a mail client.
- :func:`record_hard_bounce`: an address that does not exist.

All of them suppress the address on every channel (see
:mod:`herald.domain.suppression` for why).
"""

from __future__ import annotations

from dataclasses import dataclass

from herald.channels.base import InboundMessage
from herald.clock import Clock
from herald.domain.agents import ConversationMessage, Direction
from herald.domain.channels import CHANNEL_OF_KIND, Channel
from herald.domain.optout import DEFAULT_POLICY, Detection, DetectionSource, OptOutPolicy, detect
from herald.domain.suppression import SuppressionReason
from herald.services import suppression
from herald.store.suppression import Executor


@dataclass(frozen=True)
class KeywordOutcome:
    """What an inbound message did to the suppression list.

    ``newly_suppressed`` is False for a repeated STOP (send no second
    confirmation); ``lifted`` counts the entries an opt-in removed.
    """

    detection: Detection
    newly_suppressed: bool = False
    lifted: int = 0


def sender_address(message: InboundMessage) -> str:
    """The sender as a suppression address; bare international digits get their '+'."""
    sender = message.sender.strip()
    return "+" + sender if sender.isdigit() else sender


def conversation_message(message: InboundMessage) -> ConversationMessage:
    """The inbound message as agents see it."""
    return ConversationMessage(
        direction=Direction.INBOUND,
        channel=CHANNEL_OF_KIND[message.provider],
        text=message.text,
        at=message.received_at,
        payload=message.payload,
    )


def apply_opt_keywords(
    session: Executor,
    message: InboundMessage,
    *,
    clock: Clock,
    policy: OptOutPolicy = DEFAULT_POLICY,
    campaign_id: int | None = None,
) -> KeywordOutcome:
    """Detect an opt-out or opt-in in ``message`` and apply it to the suppression list."""
    channel = CHANNEL_OF_KIND[message.provider]
    address = sender_address(message)
    suppressed = suppression.is_suppressed(session, address, channel)
    detection = detect(
        message.text, channel, payload=message.payload, is_suppressed=suppressed, policy=policy
    )
    if detection.is_opt_out:
        result = suppression.suppress(
            session,
            address,
            reason=SuppressionReason.KEYWORD,
            clock=clock,
            channel=channel,
            source_campaign_id=campaign_id,
            detail=_detail(message, detection),
        )
        return KeywordOutcome(detection, newly_suppressed=result.created)
    if detection.is_opt_in and suppressed:
        return KeywordOutcome(detection, lifted=suppression.opt_in(session, address, channel))
    return KeywordOutcome(detection)


def _detail(message: InboundMessage, detection: Detection) -> str:
    """The evidence kept with the entry: what the person wrote, tapped or pressed."""
    if detection.source is DetectionSource.PAYLOAD:
        return f"payload {message.payload}"
    if detection.source is DetectionSource.KEYPRESS:
        return f"key {message.payload}"
    return message.text.strip()


def record_agent_opt_out(
    session: Executor,
    address: str,
    channel: Channel,
    *,
    clock: Clock,
    campaign_id: int | None = None,
    agent_version_id: int | None = None,
) -> suppression.SuppressResult:
    detail = f"agent version {agent_version_id}" if agent_version_id is not None else None
    return suppression.suppress(
        session,
        address,
        reason=SuppressionReason.AGENT_ACTION,
        clock=clock,
        channel=channel,
        source_campaign_id=campaign_id,
        detail=detail,
    )


def record_provider_opt_out(
    session: Executor,
    address: str,
    channel: Channel,
    provider_code: str,
    *,
    clock: Clock,
    campaign_id: int | None = None,
) -> suppression.SuppressResult:
    return suppression.suppress(
        session,
        address,
        reason=SuppressionReason.PROVIDER_OPT_OUT,
        clock=clock,
        channel=channel,
        source_campaign_id=campaign_id,
        detail=f"provider code {provider_code}",
    )


def record_one_click_unsubscribe(
    session: Executor, email: str, *, clock: Clock, campaign_id: int | None = None
) -> suppression.SuppressResult:
    return suppression.suppress(
        session,
        email,
        reason=SuppressionReason.ONE_CLICK_UNSUBSCRIBE,
        clock=clock,
        channel=Channel.EMAIL,
        source_campaign_id=campaign_id,
    )


def record_hard_bounce(
    session: Executor, email: str, status_code: str, *, clock: Clock, campaign_id: int | None = None
) -> suppression.SuppressResult:
    return suppression.suppress(
        session,
        email,
        reason=SuppressionReason.HARD_BOUNCE,
        clock=clock,
        channel=Channel.EMAIL,
        source_campaign_id=campaign_id,
        detail=f"bounce {status_code}",
    )
