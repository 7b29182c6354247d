"""What the thread view shows of a conversation: who said what, and what can be done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herald.domain.conversations import (
    REPLY_MAX_CHARS,
    TRANSITIONS,
    ConversationAction,
    ConversationStatus,
)
from herald.domain.error_catalog import ErrorEntry
from herald.services.campaign_activity import StepInfo, step_label
from herald.services.campaign_monitor import explain_channel_error
from herald.services.conversations import ConversationDetail
from herald.store.conversation_threads import ThreadMessage

AUTHOR_LABELS = {"contact": "Contact", "agent": "Agent", "user": "Team", "campaign": "Campaign"}


@dataclass(frozen=True)
class ThreadLine:
    message: ThreadMessage
    who: str
    side: str  # "inbound" or "outbound"
    explanation: ErrorEntry | None


def thread_context(
    detail: ConversationDetail,
    *,
    steps: tuple[StepInfo, ...] = (),
    notice: str | None = None,
    error: str | None = None,
    draft: str = "",
    reference: str,
) -> dict[str, Any]:
    conversation = detail.conversation
    moves = {action.value for (status, action) in TRANSITIONS if status is conversation.status}
    return {
        "conversation": conversation,
        "lines": [_line(message, steps) for message in detail.messages],
        "agent_is_on": conversation.status is ConversationStatus.OPEN,
        "can_hand_off": ConversationAction.HAND_OFF.value in moves,
        "can_return": ConversationAction.RETURN_TO_AGENT.value in moves,
        "can_close": ConversationAction.CLOSE.value in moves,
        "can_reopen": ConversationAction.REOPEN.value in moves,
        "can_reply": conversation.channel.value != "voice",
        "reply_max": REPLY_MAX_CHARS,
        "notice": notice,
        "error": error,
        "draft": draft,
        "reference": reference,
    }


def _line(message: ThreadMessage, steps: tuple[StepInfo, ...]) -> ThreadLine:
    who = AUTHOR_LABELS.get(message.author.value, message.author.value)
    if message.author_name:
        who = f"{who}: {message.author_name}"
    elif message.author.value == "campaign" and message.step is not None:
        who = f"Campaign ({(step_label(steps, message.step) or '').lower()})"
    explanation = None
    if message.error_code:
        explanation = explain_channel_error(message.channel.value, message.error_code)
    return ThreadLine(message, who, message.direction.value, explanation)
