"""The configuration of a ``rules`` agent, validated before a version can be saved.

::

    {"default_language": "en",
     "intents": [
        {"name": "confirm",
         "keywords": {"en": ["yes", "confirm", "see you"], "es": ["si", "confirmo"]},
         "patterns": {"en": ["\\\\bi'?ll be there\\\\b"]},
         "reply": {"en": "Thanks {{name|there}}, see you!", "es": "¡Gracias {{name}}!"},
         "actions": {"tags": ["confirmed"], "outcome": "confirmed"}}],
     "fallback": {"reply": "A colleague will answer you shortly.",
                  "actions": {"hand_off": true}}}

Intents are tried in order; the first that matches wins. Keys of
``keywords`` / ``patterns`` / ``reply`` are language codes (``en``, ``pt-br``)
or ``*`` for any language. Every intent and the fallback must do something
visible (reply, hand off or opt out): an agent never leaves a person unanswered
without telling a human.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from herald.agents.regex_safety import UnsafePatternError, compile_safe
from herald.agents.reply_text import check_template
from herald.domain.agents import MAX_TAGS_PER_DECISION, OUTCOME_PATTERN, normalize_tag
from herald.domain.folding import words

ANY_LANGUAGE = "*"
LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
MAX_INTENTS = 100
MAX_TERMS = 100  # keywords or patterns per language of one intent
MAX_KEYWORD_WORDS = 6

IntentName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Reply = str | dict[str, str] | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RulesActions(_Strict):
    tags: tuple[str, ...] = Field(default=(), max_length=MAX_TAGS_PER_DECISION)
    outcome: str | None = None
    hand_off: bool = False
    opt_out: bool = False

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        normalized = []
        for tag in tags:
            value = normalize_tag(tag)
            if value is None:
                raise ValueError(f"{tag!r} is not a valid tag (letters, digits, '-' and '_')")
            normalized.append(value)
        return tuple(dict.fromkeys(normalized))

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, outcome: str | None) -> str | None:
        if outcome is not None and not OUTCOME_PATTERN.fullmatch(outcome):
            raise ValueError(f"{outcome!r} is not a valid outcome (e.g. confirmed, not_interested)")
        return outcome


def _check_reply(reply: Reply) -> Reply:
    texts = [reply] if isinstance(reply, str) else list((reply or {}).values())
    if isinstance(reply, dict):
        _check_languages(reply)
        if not reply:
            raise ValueError("reply has no language")
    for text in texts:
        check_template(text)
    return reply


def _check_languages(by_language: Mapping[str, object]) -> None:
    for language in by_language:
        if language != ANY_LANGUAGE and not LANGUAGE.fullmatch(language):
            raise ValueError(f"{language!r} is not a language code (e.g. en, es, pt-br) or '*'")


class _Responds(_Strict):
    reply: Reply = None
    actions: RulesActions = RulesActions()

    @field_validator("reply")
    @classmethod
    def _reply(cls, reply: Reply) -> Reply:
        return _check_reply(reply)

    @model_validator(mode="after")
    def _never_silent(self) -> _Responds:
        if self.reply is None and not (self.actions.hand_off or self.actions.opt_out):
            raise ValueError("needs a reply, or a hand_off or opt_out action")
        return self


class RulesIntent(_Responds):
    name: IntentName
    keywords: dict[str, list[str]] = Field(default_factory=dict)
    patterns: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, keywords: dict[str, list[str]]) -> dict[str, list[str]]:
        _check_languages(keywords)
        for language, terms in keywords.items():
            _check_count(language, terms)
            for term in terms:
                count = len(words(term))
                if count > MAX_KEYWORD_WORDS or not term.strip() or len(term) > 100:
                    raise ValueError(f"keyword {term!r} ({language}) must be 1 to 6 words")
        return keywords

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, patterns: dict[str, list[str]]) -> dict[str, list[str]]:
        _check_languages(patterns)
        for language, terms in patterns.items():
            _check_count(language, terms)
            for index, pattern in enumerate(terms):
                try:
                    compile_safe(pattern)
                except UnsafePatternError as exc:
                    raise ValueError(f"{language}[{index}] {pattern!r}: {exc}") from exc
        return patterns

    @model_validator(mode="after")
    def _matches_something(self) -> RulesIntent:
        if not any(self.keywords.values()) and not any(self.patterns.values()):
            raise ValueError(f"intent {self.name!r} has no keywords and no patterns")
        return self


def _check_count(language: str, terms: list[str]) -> None:
    if len(terms) > MAX_TERMS:
        raise ValueError(f"more than {MAX_TERMS} entries for {language!r}")


class RulesFallback(_Responds):
    actions: RulesActions = RulesActions(hand_off=True)


class RulesAgentConfig(_Strict):
    default_language: str = "en"
    intents: list[RulesIntent] = Field(min_length=1, max_length=MAX_INTENTS)
    fallback: RulesFallback = RulesFallback()

    @field_validator("default_language")
    @classmethod
    def _default_language(cls, language: str) -> str:
        if not LANGUAGE.fullmatch(language):
            raise ValueError(f"{language!r} is not a language code (e.g. en, es, pt-br)")
        return language

    @field_validator("intents")
    @classmethod
    def _unique_names(cls, intents: list[RulesIntent]) -> list[RulesIntent]:
        names = [intent.name for intent in intents]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"intent names must be unique: {', '.join(duplicates)}")
        return intents
