"""Builders shared by the agent tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from herald.domain.agents import (
    AgentContext,
    CampaignInfo,
    ContactProfile,
    ConversationMessage,
    Direction,
)
from herald.domain.channels import Channel

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def make_context(
    text: str,
    *,
    channel: Channel = Channel.SMS,
    payload: str | None = None,
    fields: dict[str, str] | None = None,
    campaign: CampaignInfo | None = None,
    history: tuple[ConversationMessage, ...] | None = None,
) -> AgentContext:
    if history is None:
        history = (
            ConversationMessage(
                Direction.OUTBOUND, channel, "Reminder: your appointment is on Thursday.", T0
            ),
        )
    return AgentContext(
        inbound=ConversationMessage(
            Direction.INBOUND, channel, text, T0 + timedelta(minutes=5), payload
        ),
        contact=ContactProfile(
            phone="+12025550101",
            email="alex@example.com",
            fields=fields if fields is not None else {"name": "Alex", "appointment_date": "Thu"},
        ),
        campaign=campaign or CampaignInfo("Spring check-ups", ("spring-check-ups",), id=7),
        conversation=history,
        conversation_id="c-42",
    )
