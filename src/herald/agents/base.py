"""The interface every agent kind implements, and the context as JSON for remote agents.

::

    Agent.respond(context) -> AgentDecision
    ├── RulesAgent     offline intents (herald.agents.rules)
    ├── LlmAgent       OpenAI-compatible chat completions (herald.agents.llm)
    └── WebhookAgent   the user's own bot over signed HTTP (herald.agents.webhook)

Contract for callers: ``respond`` does not raise for the agent's own
failures (timeouts, HTTP errors, unreadable answers); it returns a hand-off
decision instead, so a failing agent never silences a conversation.
"""

from __future__ import annotations

from typing import Any, Protocol

from herald.domain.agents import AgentContext, AgentDecision, ConversationMessage

DEFAULT_HOLDING_REPLY = (
    "Thanks for your message. A member of our team will get back to you shortly."
)


class Agent(Protocol):
    async def respond(self, context: AgentContext) -> AgentDecision:
        """Decide what to answer to ``context.inbound``; never raises for agent failures."""
        ...


def message_json(message: ConversationMessage) -> dict[str, Any]:
    data: dict[str, Any] = {
        "direction": message.direction.value,
        "channel": message.channel.value,
        "text": message.text,
        "at": message.at.isoformat(),
    }
    if message.payload is not None:
        data["payload"] = message.payload
    return data


def context_json(context: AgentContext, *, history_messages: int) -> dict[str, Any]:
    """The context as remote agents receive it (the last ``history_messages`` only)."""
    history = context.conversation[-history_messages:] if history_messages else ()
    campaign = context.campaign
    return {
        "conversation_id": context.conversation_id,
        "channel": context.channel.value,
        "message": message_json(context.inbound),
        "conversation": [message_json(message) for message in history],
        "contact": {
            "phone": context.contact.phone,
            "email": context.contact.email,
            "fields": dict(context.contact.fields),
        },
        "campaign": None
        if campaign is None
        else {"id": campaign.id, "name": campaign.name, "tags": list(campaign.tags)},
    }
