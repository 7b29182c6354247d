"""Opt-out and opt-in intents in what a person sends us, per channel.

The rule is the SMS industry's: a keyword counts only when it is the *whole*
message. "STOP", " stop. ", "Arrêt!" and "opt-out" are opt-outs; "stop sending
me the wrong date" is not, because it is a sentence about something else and
the agent should answer it. A lenient mode (:attr:`MatchMode.FIRST_WORDS`)
also accepts a keyword at the start of a longer message, for teams that
prefer over-suppressing to missing an opt-out.

Comparison form: accents and case folded, every character that is not a letter
or digit dropped, words joined. So punctuation, emoji, hyphens and spaces do
not matter ("Opt Out!", "OPT-OUT", "optout" are one keyword) while any extra
word does.

Per channel (see docs/opt-out.md for the reasoning):

- SMS and WhatsApp: the opt-out keywords below; opt-in START, UNSTOP. On SMS
  "YES" is also an opt-in, but only when the address is suppressed: "YES" to
  a campaign is an answer, not a subscription. WhatsApp quick-reply payloads
  are matched against configurable opt-out / opt-in payload sets.
- Voice: a configurable keypad digit; off unless the campaign's prompt
  offers it, because any digit may mean something else in another prompt.
- Email: an "unsubscribe"-style reply (only the new text above the quoted
  original counts); no keyword opt-in.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from herald.domain.channels import Channel
from herald.domain.folding import words


class OptIntent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    NONE = "none"


class MatchMode(StrEnum):
    WHOLE_MESSAGE = "whole_message"
    FIRST_WORDS = "first_words"


class DetectionSource(StrEnum):
    KEYWORD = "keyword"
    PAYLOAD = "payload"
    KEYPRESS = "keypress"


def compact(text: str) -> str:
    """The comparison form: folded words of ``text`` joined without separators."""
    return "".join(words(text))


def compact_all(keywords: Iterable[str]) -> frozenset[str]:
    """Keywords or payloads as people write them, in comparison form."""
    return frozenset(compact(keyword) for keyword in keywords)


# The US/CTIA set used by carriers and SMS providers, with the additions of
# Twilio (REVOKE, OPTOUT) and AWS (OPT-OUT, REMOVE, ARRET).
SMS_STANDARD_OPT_OUT = (
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
    "REVOKE", "OPTOUT", "OPT-OUT", "REMOVE", "ARRET",
)  # fmt: skip

# Words whose meaning as a whole reply is "stop messaging me", in the
# languages Herald's audiences write most. Words that commonly *answer* a
# campaign ("NO", "NON", "NEIN", "BASTA") are left out on purpose.
MULTILINGUAL_OPT_OUT = (
    # Spanish
    "BAJA", "DAR DE BAJA", "ALTO", "PARAR", "DETENER", "CANCELAR", "DESUSCRIBIR",
    # Portuguese
    "SAIR", "PARE", "DESCADASTRAR", "DESINSCREVER",
    # French
    "DESINSCRIRE", "DESABONNER", "DESINSCRIPTION",
    # German, Danish/Norwegian/Swedish
    "STOPP", "ABMELDEN", "ABBESTELLEN", "AFMELD",
    # Italian
    "DISISCRIVI", "DISISCRIVIMI",
    # Dutch
    "AFMELDEN", "UITSCHRIJVEN",
)  # fmt: skip

# Email replies: only words that mean "unsubscribe"; END, QUIT or CANCEL as a
# whole email are too likely to be about the appointment itself.
EMAIL_OPT_OUT = (
    "UNSUBSCRIBE", "STOP", "REMOVE", "REMOVE ME", "OPTOUT", "OPT-OUT",
    "DAR DE BAJA", "BAJA", "DESUSCRIBIR", "DESCADASTRAR", "DESINSCREVER",
    "DESINSCRIRE", "DESABONNER", "DESINSCRIPTION", "ABMELDEN", "ABBESTELLEN",
    "DISISCRIVI", "DISISCRIVIMI", "AFMELDEN", "UITSCHRIJVEN",
)  # fmt: skip

OPT_IN = ("START", "UNSTOP")
SMS_OPT_IN_WHEN_SUPPRESSED = ("YES",)

DEFAULT_WHATSAPP_OPT_OUT_PAYLOADS = ("STOP", "OPT_OUT", "UNSUBSCRIBE")
DEFAULT_WHATSAPP_OPT_IN_PAYLOADS = ("START", "OPT_IN")


@dataclass(frozen=True)
class ChannelKeywords:
    """Keywords of one channel, in comparison form (see :func:`compact`)."""

    opt_out: frozenset[str] = frozenset()
    opt_in: frozenset[str] = frozenset()
    opt_in_when_suppressed: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        opt_out: Iterable[str] = (),
        opt_in: Iterable[str] = (),
        opt_in_when_suppressed: Iterable[str] = (),
    ) -> ChannelKeywords:
        """Build from keywords as people write them ("OPT-OUT", "Arrêt")."""
        return cls(compact_all(opt_out), compact_all(opt_in), compact_all(opt_in_when_suppressed))


DEFAULT_KEYWORDS: Mapping[Channel, ChannelKeywords] = MappingProxyType(
    {
        Channel.SMS: ChannelKeywords.of(
            SMS_STANDARD_OPT_OUT + MULTILINGUAL_OPT_OUT, OPT_IN, SMS_OPT_IN_WHEN_SUPPRESSED
        ),
        Channel.WHATSAPP: ChannelKeywords.of(SMS_STANDARD_OPT_OUT + MULTILINGUAL_OPT_OUT, OPT_IN),
        Channel.VOICE: ChannelKeywords(),
        Channel.EMAIL: ChannelKeywords.of(EMAIL_OPT_OUT),
    }
)


@dataclass(frozen=True)
class OptOutPolicy:
    """What counts as opt-out / opt-in; the defaults follow each channel's convention.

    ``voice_opt_out_digit`` is the keypad digit that opts out in a voice
    prompt (``None``: the prompt offers none). Payloads are compared folded.
    """

    mode: MatchMode = MatchMode.WHOLE_MESSAGE
    keywords: Mapping[Channel, ChannelKeywords] = field(default_factory=lambda: DEFAULT_KEYWORDS)
    whatsapp_opt_out_payloads: frozenset[str] = compact_all(DEFAULT_WHATSAPP_OPT_OUT_PAYLOADS)
    whatsapp_opt_in_payloads: frozenset[str] = compact_all(DEFAULT_WHATSAPP_OPT_IN_PAYLOADS)
    voice_opt_out_digit: str | None = None

    def __post_init__(self) -> None:
        digit = self.voice_opt_out_digit
        if digit is not None and (len(digit) != 1 or digit not in "0123456789*#"):
            raise ValueError(f"voice_opt_out_digit must be one keypad key, got {digit!r}")


DEFAULT_POLICY = OptOutPolicy()


@dataclass(frozen=True)
class Detection:
    """The verdict on one inbound message; ``matched`` is what triggered it."""

    intent: OptIntent
    source: DetectionSource | None = None
    matched: str | None = None

    @property
    def is_opt_out(self) -> bool:
        return self.intent is OptIntent.OPT_OUT

    @property
    def is_opt_in(self) -> bool:
        return self.intent is OptIntent.OPT_IN


NO_INTENT = Detection(OptIntent.NONE)

# Where the new text of an email reply ends and the quoted original begins.
_EMAIL_QUOTE_START = re.compile(
    r"^\s*(>|-- ?$|-{2,}\s*original message|_{5,}|on .{1,200} wrote:\s*$|from:\s"
    r"|sent from my |get outlook for )",
    re.IGNORECASE,
)


def email_reply_top(text: str) -> str:
    """The part of an email reply above the quoted original and the signature."""
    kept: list[str] = []
    for line in text.splitlines():
        if _EMAIL_QUOTE_START.match(line):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def detect(
    text: str,
    channel: Channel,
    *,
    payload: str | None = None,
    is_suppressed: bool = False,
    policy: OptOutPolicy = DEFAULT_POLICY,
) -> Detection:
    """Say whether an inbound message opts the sender out, back in, or neither.

    ``payload`` is a WhatsApp button payload or the digits pressed in a voice
    prompt. ``is_suppressed`` tells whether the sender's address is already
    suppressed on this channel, which SMS needs to read "YES" correctly.
    A payload or keypress decides before the text.
    """
    if payload is not None:
        by_payload = _detect_payload(payload, channel, policy)
        if by_payload is not NO_INTENT:
            return by_payload
    if channel is Channel.EMAIL:
        text = email_reply_top(text)
    return _detect_keyword(
        text, policy.keywords.get(channel, ChannelKeywords()), is_suppressed, policy.mode
    )


def _detect_payload(payload: str, channel: Channel, policy: OptOutPolicy) -> Detection:
    if channel is Channel.VOICE:
        if policy.voice_opt_out_digit is not None and payload.strip() == policy.voice_opt_out_digit:
            return Detection(
                OptIntent.OPT_OUT, DetectionSource.KEYPRESS, policy.voice_opt_out_digit
            )
        return NO_INTENT
    if channel is Channel.WHATSAPP:
        key = compact(payload)
        if key in policy.whatsapp_opt_out_payloads:
            return Detection(OptIntent.OPT_OUT, DetectionSource.PAYLOAD, key)
        if key in policy.whatsapp_opt_in_payloads:
            return Detection(OptIntent.OPT_IN, DetectionSource.PAYLOAD, key)
    return NO_INTENT


def _candidates(text: str, mode: MatchMode) -> list[str]:
    """Comparison keys of the message: the whole, or also its first 1-3 words."""
    message_words = words(text)
    if not message_words:
        return []
    whole = "".join(message_words)
    if mode is MatchMode.WHOLE_MESSAGE:
        return [whole]
    prefixes = ["".join(message_words[:n]) for n in range(1, min(3, len(message_words)) + 1)]
    return [whole, *prefixes]


def _detect_keyword(
    text: str, keywords: ChannelKeywords, is_suppressed: bool, mode: MatchMode
) -> Detection:
    for key in _candidates(text, mode):
        if key in keywords.opt_out:
            return Detection(OptIntent.OPT_OUT, DetectionSource.KEYWORD, key)
    # Opt-in stays whole-message in every mode: re-subscribing someone by a
    # loose reading is the costly mistake, unlike a needless suppression.
    whole = compact(text)
    if whole in keywords.opt_in or (is_suppressed and whole in keywords.opt_in_when_suppressed):
        return Detection(OptIntent.OPT_IN, DetectionSource.KEYWORD, whole)
    return NO_INTENT
