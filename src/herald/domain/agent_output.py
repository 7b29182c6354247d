"""Reading what an external agent (an LLM, a user's bot) answered.

The answer is untrusted. Expected shape::

    {"reply": "See you Thursday!",
     "actions": [{"type": "add_tags", "tags": ["confirmed"]},
                 {"type": "set_outcome", "outcome": "confirmed"},
                 {"type": "hand_off", "reason": "asks for a discount"},
                 {"type": "opt_out"}]}

Models wrap JSON in prose or code fences, so :func:`extract_json_object` digs
the first object out of such text. :func:`read_decision` then keeps what is
valid and drops the rest, naming each dropped item so the caller can log it:
an unknown action type, a malformed tag or outcome, a second outcome. A reply
longer than the limit is refused rather than cut (a truncated sentence can
say the opposite of the whole one); the decision then hands off to a human.
Output that is not an object, or whose ``reply`` or ``actions`` has the wrong
type, is unusable as a whole (:class:`AgentOutputError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.domain.agents import (
    MAX_TAGS_PER_DECISION,
    OUTCOME_PATTERN,
    AgentDecision,
    normalize_tag,
)

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_OBJECT_STARTS = 50  # "{" positions tried before giving up on prose


class AgentOutputError(ValueError):
    """The answer cannot be read as a decision at all."""


@dataclass(frozen=True)
class ReadDecision:
    decision: AgentDecision
    dropped: tuple[str, ...]


def extract_json_object(text: str) -> dict[str, Any]:
    """The JSON object in ``text``: the whole text, a fenced block, or the first ``{...}``."""
    stripped = text.strip()
    candidates = [stripped, *(block.strip() for block in _FENCE.findall(stripped))]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    start = stripped.find("{")
    for _ in range(MAX_OBJECT_STARTS):
        if start < 0:
            break
        try:
            value, _end = decoder.raw_decode(stripped, start)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
        start = stripped.find("{", start + 1)
    raise AgentOutputError("no JSON object found in the answer")


def read_decision(data: Mapping[str, Any], *, max_reply_chars: int) -> ReadDecision:
    """Validate an answer object into a decision, dropping what is invalid."""
    dropped: list[str] = []
    reply, refused = _reply(data.get("reply"), max_reply_chars)
    if refused:
        dropped.append(refused)
    actions = data.get("actions") or []
    if not isinstance(actions, list):
        raise AgentOutputError("'actions' must be a list")
    state = _Actions()
    for action in actions:
        problem = state.apply(action)
        if problem:
            dropped.append(problem)
    notes = [state.reason] if state.reason else []
    if dropped:
        notes.append("dropped: " + ", ".join(dropped))
    decision = AgentDecision(
        reply=reply,
        tags=tuple(state.tags),
        outcome=state.outcome,
        hand_off=state.hand_off or refused is not None,
        opt_out=state.opt_out,
        note="; ".join(notes) or None,
    )
    return ReadDecision(decision, tuple(dropped))


def _reply(value: Any, max_chars: int) -> tuple[str | None, str | None]:
    """The reply text, and why it was refused (None when kept or absent)."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise AgentOutputError("'reply' must be a string or null")
    text = _CONTROL.sub("", value).strip()
    if len(text) > max_chars:
        return None, f"reply of {len(text)} characters (limit {max_chars})"
    return text or None, None


class _Actions:
    """Accumulates valid actions; ``apply`` returns why an action was dropped."""

    def __init__(self) -> None:
        self.tags: list[str] = []
        self.outcome: str | None = None
        self.hand_off = False
        self.opt_out = False
        self.reason: str | None = None

    def apply(self, action: Any) -> str | None:
        if not isinstance(action, dict) or not isinstance(action.get("type"), str):
            return f"action without a type: {_short(action)}"
        kind = action["type"]
        if kind == "add_tags":
            return self._add_tags(action.get("tags"))
        if kind == "set_outcome":
            return self._set_outcome(action.get("outcome"))
        if kind == "hand_off":
            self.hand_off = True
            reason = action.get("reason")
            self.reason = f"handed off: {reason[:200]}" if isinstance(reason, str) else None
            return None
        if kind == "opt_out":
            self.opt_out = True
            return None
        return f"unknown action {_short(kind)}"

    def _add_tags(self, tags: Any) -> str | None:
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list):
            return "add_tags without a list of tags"
        bad = []
        for raw in tags:
            tag = normalize_tag(raw) if isinstance(raw, str) else None
            if tag is None or len(self.tags) >= MAX_TAGS_PER_DECISION:
                bad.append(_short(raw))
            elif tag not in self.tags:
                self.tags.append(tag)
        return f"tags {', '.join(bad)}" if bad else None

    def _set_outcome(self, outcome: Any) -> str | None:
        if not isinstance(outcome, str) or not OUTCOME_PATTERN.fullmatch(outcome.strip().lower()):
            return f"outcome {_short(outcome)}"
        if self.outcome is not None:
            return f"second outcome {_short(outcome)}"
        self.outcome = outcome.strip().lower()
        return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
