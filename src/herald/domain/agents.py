"""What a reply agent sees and what it may decide.

Every agent kind (rules, LLM, webhook) answers an :class:`AgentContext` with an
:class:`AgentDecision`. The decision is data, not side effects: the caller
(the reply router) sends the reply on the channel the contact used, adds the
tags, records the outcome, switches the conversation to a human, and puts the
address on the suppression list.

Decisions are validated on construction: tags and outcome labels must match
:data:`TAG_PATTERN` / :data:`OUTCOME_PATTERN`. An agent may stay quiet only by
handing off, opting out or deferring (a webhook bot that answers later):
:attr:`AgentDecision.is_silent` names the case the callers must never accept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from herald.domain.channels import Channel
from herald.domain.folding import fold

TAG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
OUTCOME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_TAGS_PER_DECISION = 10


class AgentKind(StrEnum):
    RULES = "rules"
    LLM = "llm"
    WEBHOOK = "webhook"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@dataclass(frozen=True)
class ConversationMessage:
    """One message of a conversation; ``payload`` is a button payload or keypress."""

    direction: Direction
    channel: Channel
    text: str
    at: datetime
    payload: str | None = None


@dataclass(frozen=True)
class ContactProfile:
    """The contact as the audience knows it; ``fields`` are the custom CSV columns."""

    phone: str | None = None
    email: str | None = None
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def values(self) -> dict[str, str]:
        """Every field by name, phone and email included (they win over custom columns)."""
        values = dict(self.fields)
        if self.phone:
            values["phone"] = self.phone
        if self.email:
            values["email"] = self.email
        return values


@dataclass(frozen=True)
class CampaignInfo:
    name: str
    tags: tuple[str, ...] = ()
    id: int | None = None


@dataclass(frozen=True)
class AgentContext:
    """Everything an agent knows when a reply arrives.

    ``conversation`` holds the earlier messages, oldest first, *without*
    ``inbound``. ``campaign`` is None for a conversation no campaign opened
    (a message from an unknown address). ``conversation_id`` lets a webhook
    bot answer later through the API.
    """

    inbound: ConversationMessage
    contact: ContactProfile
    campaign: CampaignInfo | None = None
    conversation: tuple[ConversationMessage, ...] = ()
    conversation_id: str | None = None

    @property
    def channel(self) -> Channel:
        """The channel the contact wrote on, where the reply goes."""
        return self.inbound.channel


def normalize_tag(raw: str) -> str | None:
    """A tag in Herald's form ("Needs Callback" -> "needs-callback"), or None if impossible."""
    candidate = re.sub(r"\s+", "-", fold(raw))
    return candidate if TAG_PATTERN.fullmatch(candidate) else None


@dataclass(frozen=True)
class AgentDecision:
    """What to do about one inbound message.

    ``note`` explains the decision for logs and the conversation view (why a
    fallback happened, which actions were dropped); it never reaches the
    contact. ``deferred`` means the agent (a webhook bot) will answer later.
    """

    reply: str | None = None
    tags: tuple[str, ...] = ()
    outcome: str | None = None
    hand_off: bool = False
    opt_out: bool = False
    deferred: bool = False
    note: str | None = None

    def __post_init__(self) -> None:
        if self.reply is not None and not self.reply.strip():
            raise ValueError("reply must be None or non-blank text")
        if len(self.tags) > MAX_TAGS_PER_DECISION:
            raise ValueError(f"at most {MAX_TAGS_PER_DECISION} tags per decision")
        for tag in self.tags:
            if not TAG_PATTERN.fullmatch(tag):
                raise ValueError(f"invalid tag {tag!r}: expected {TAG_PATTERN.pattern}")
        if self.outcome is not None and not OUTCOME_PATTERN.fullmatch(self.outcome):
            raise ValueError(
                f"invalid outcome {self.outcome!r}: expected {OUTCOME_PATTERN.pattern}"
            )

    @property
    def is_silent(self) -> bool:
        """No reply and nobody else will answer: callers must never act on this."""
        return self.reply is None and not (self.hand_off or self.opt_out or self.deferred)


def hand_off_decision(note: str, holding_reply: str | None = None) -> AgentDecision:
    """The safe decision when an agent fails: a human takes over, the contact hears so."""
    return AgentDecision(reply=holding_reply or None, hand_off=True, note=note)


def never_silent(decision: AgentDecision, holding_reply: str | None) -> AgentDecision:
    """Turn a silent decision into a hand-off; give a hand-off without reply the holding reply."""
    if decision.is_silent:
        note = _join_notes(decision.note, "agent gave no reply: handed off")
        decision = replace(decision, hand_off=True, note=note)
    if decision.hand_off and decision.reply is None and holding_reply:
        decision = replace(decision, reply=holding_reply)
    return decision


def _join_notes(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second
