"""The ``rules`` agent: ordered intents matched by keywords or patterns, offline.

Matching works on the folded message (lower case, accents removed, whitespace
collapsed; see :mod:`herald.domain.folding`), cut to :data:`MAX_MATCH_CHARS`:

- a keyword or phrase matches when its words appear consecutively in the
  message's words ("see you" matches "ok, see you then!" but not "seeyou");
  a keyword without letters or digits (an emoji such as 👍) matches anywhere;
- a pattern is a regular expression searched in the folded text, case
  insensitive (write it without accents); unsafe shapes are refused when the
  configuration is saved (:mod:`herald.agents.regex_safety`).

The first intent with a match wins; its language is the language of the list
that matched, and picks the reply. A WhatsApp button payload is tried when
the text matches nothing. With no match, the fallback applies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from herald.agents.regex_safety import compile_safe
from herald.agents.reply_text import render
from herald.agents.rules_config import (
    ANY_LANGUAGE,
    Reply,
    RulesActions,
    RulesAgentConfig,
    RulesIntent,
)
from herald.domain.agents import AgentContext, AgentDecision
from herald.domain.folding import fold, words

MAX_MATCH_CHARS = 1000
LANGUAGE_FIELDS = ("language", "lang", "locale")


@dataclass(frozen=True)
class _Rule:
    intent: str
    language: str
    phrases: frozenset[tuple[str, ...]]
    symbols: tuple[str, ...]  # keywords without letters or digits, e.g. emoji
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class IntentMatch:
    intent: str
    language: str


class RulesAgent:
    """Answers from a :class:`RulesAgentConfig`; never fails and never waits."""

    def __init__(self, config: RulesAgentConfig) -> None:
        self.config = config
        self._intents = {intent.name: intent for intent in config.intents}
        self._rules = [rule for intent in config.intents for rule in _rules_of(intent)]
        self._longest_phrase = max((len(p) for r in self._rules for p in r.phrases), default=1)

    async def respond(self, context: AgentContext) -> AgentDecision:
        return self.decide(context)

    def decide(self, context: AgentContext) -> AgentDecision:
        """The decision for ``context`` (synchronous: matching does no I/O)."""
        found = self.match(context.inbound.text)
        if found is None and context.inbound.payload:
            found = self.match(context.inbound.payload)
        values = context.contact.values()
        if context.campaign is not None:
            values.setdefault("campaign", context.campaign.name)
        if found is None:
            fallback = self.config.fallback
            language = self._contact_language(values)
            template = self._pick_reply(fallback.reply, language)
            return _decision(template, fallback.actions, values, "no intent matched")
        intent = self._intents[found.intent]
        language = found.language
        if language == ANY_LANGUAGE:
            language = self._contact_language(values)
        note = f"intent {found.intent} ({found.language})"
        return _decision(self._pick_reply(intent.reply, language), intent.actions, values, note)

    def match(self, text: str) -> IntentMatch | None:
        """The first intent (in configuration order) matching ``text``."""
        folded = fold(text[: MAX_MATCH_CHARS * 2])[:MAX_MATCH_CHARS]
        grams = _ngrams(words(folded), self._longest_phrase)
        for rule in self._rules:
            if (
                not rule.phrases.isdisjoint(grams)
                or any(symbol in folded for symbol in rule.symbols)
                or any(pattern.search(folded) for pattern in rule.patterns)
            ):
                return IntentMatch(rule.intent, rule.language)
        return None

    def _pick_reply(self, reply: Reply, language: str) -> str | None:
        """The reply in ``language``, its base language, any language, or the default."""
        if reply is None or isinstance(reply, str):
            return reply
        base = language.split("-")[0]
        for key in (language, base, ANY_LANGUAGE, self.config.default_language):
            if key in reply:
                return reply[key]
        return next(iter(reply.values()))

    def _contact_language(self, values: Mapping[str, str]) -> str:
        for name in LANGUAGE_FIELDS:
            value = fold(values.get(name, ""))
            if value:
                return value.replace("_", "-")
        return self.config.default_language


def _rules_of(intent: RulesIntent) -> list[_Rule]:
    rules = []
    for language in dict.fromkeys([*intent.keywords, *intent.patterns]):
        terms = intent.keywords.get(language, [])
        phrases = frozenset(words(term) for term in terms if words(term))
        symbols = tuple(fold(term) for term in terms if not words(term))
        compiled = tuple(compile_safe(p) for p in intent.patterns.get(language, []))
        rules.append(_Rule(intent.name, language, phrases, symbols, compiled))
    return rules


def _ngrams(message_words: tuple[str, ...], longest: int) -> set[tuple[str, ...]]:
    return {
        message_words[start : start + size]
        for size in range(1, longest + 1)
        for start in range(len(message_words) - size + 1)
    }


def _decision(
    template: str | None, actions: RulesActions, values: dict[str, str], note: str
) -> AgentDecision:
    """The decision of a matched intent; a reply that renders empty becomes a hand-off."""
    text = render(template, values).strip() if template else ""
    return AgentDecision(
        reply=text or None,
        tags=actions.tags,
        outcome=actions.outcome,
        hand_off=actions.hand_off or (not text and not actions.opt_out),
        opt_out=actions.opt_out,
        note=note,
    )
