"""The rules agent: ordered intents, languages, patterns, substitution, configuration errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from herald.agents.config import parse_agent_config, validate_agent_config
from herald.agents.default import DEFAULT_AGENT_CONFIG
from herald.agents.rules import RulesAgent
from herald.agents.rules_config import RulesAgentConfig
from herald.domain.agents import AgentKind
from herald.domain.channels import Channel
from herald.errors import ValidationError
from tests.agents_support import make_context

CONFIG: dict[str, Any] = {
    "default_language": "en",
    "intents": [
        {
            "name": "reschedule",
            "keywords": {"en": ["another day", "can't make it"], "es": ["otro día"]},
            "patterns": {"en": [r"\bre-?schedul\w*"]},
            "reply": {"en": "Sure {{name|there}}, we will call you.", "es": "Te llamamos."},
            "actions": {"tags": ["Reschedule"], "outcome": "reschedule", "hand_off": True},
        },
        {
            "name": "confirm",
            "keywords": {"en": ["yes", "see you"], "es": ["sí"], "*": ["👍"]},
            "reply": {"en": "Thanks {{ name }}!", "es": "¡Gracias {{name}}!"},
            "actions": {"outcome": "confirmed"},
        },
    ],
    "fallback": {"reply": "A colleague will answer.", "actions": {"hand_off": True}},
}


def _agent(config: dict[str, Any] = CONFIG) -> RulesAgent:
    parsed = parse_agent_config(AgentKind.RULES, config)
    assert isinstance(parsed, RulesAgentConfig)
    return RulesAgent(parsed)


@pytest.mark.parametrize(
    ("text", "intent", "reply"),
    [
        ("Yes", "confirm", "Thanks Alex!"),
        ("yes, see you then!", "confirm", "Thanks Alex!"),
        ("Sí, allí estaré", "confirm", "¡Gracias Alex!"),
        ("SI", "confirm", "¡Gracias Alex!"),
        ("👍🏽", "confirm", "Thanks Alex!"),
        ("Yes but can we do another day?", "reschedule", "Sure Alex, we will call you."),
        ("I can’t make it", "reschedule", "Sure Alex, we will call you."),
        ("Need to RE-SCHEDULE", "reschedule", "Sure Alex, we will call you."),
        ("Mejor otro DIA", "reschedule", "Te llamamos."),
    ],
)
def test_first_matching_intent_answers_in_the_matched_language(
    text: str, intent: str, reply: str
) -> None:
    decision = asyncio.run(_agent().respond(make_context(text)))
    assert decision.note is not None and decision.note.startswith(f"intent {intent}")
    assert decision.reply == reply


def test_intent_actions_are_in_the_decision() -> None:
    decision = _agent().decide(make_context("another day please"))
    assert decision.tags == ("reschedule",)
    assert (decision.outcome, decision.hand_off, decision.opt_out) == ("reschedule", True, False)


def test_keywords_match_whole_words_only() -> None:
    agent = _agent()
    assert agent.match("yesterday was fine") is None
    assert agent.match("seeyou") is None


def test_no_match_uses_the_fallback() -> None:
    decision = _agent().decide(make_context("What is the address"))
    assert decision.reply == "A colleague will answer."
    assert decision.hand_off and decision.note == "no intent matched"


def test_a_button_payload_is_matched_when_the_text_is_not() -> None:
    context = make_context("Option 2", channel=Channel.WHATSAPP, payload="ANOTHER_DAY")
    assert _agent().decide(context).outcome == "reschedule"


def test_any_language_keyword_replies_in_the_contacts_language() -> None:
    context = make_context("👍", fields={"name": "Ana", "language": "es-MX"})
    assert _agent().decide(context).reply == "¡Gracias Ana!"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "{{email}}"}, "Thanks {{email}}!"),
        ({"name": "{{ phone }} {{name}}"}, "Thanks {{ phone }} {{name}}!"),
        ({"name": "__import__('os').system('x')"}, "Thanks __import__('os').system('x')!"),
        (
            {"name": "{% for x in y %}{{x}}{% endfor %}"},
            "Thanks {% for x in y %}{{x}}{% endfor %}!",
        ),
        ({"NAME": "Upper"}, "Thanks Upper!"),
    ],
)
def test_substituted_values_are_inserted_verbatim_never_evaluated(
    fields: dict[str, str], expected: str
) -> None:
    assert _agent().decide(make_context("yes", fields=fields)).reply == expected


def test_missing_fields_use_the_default_or_nothing() -> None:
    assert _agent().decide(make_context("another day", fields={})).reply == (
        "Sure there, we will call you."
    )
    assert _agent().decide(make_context("yes", fields={})).reply == "Thanks !"


def test_a_reply_that_renders_empty_hands_off() -> None:
    config = {**CONFIG, "intents": [{"name": "x", "keywords": {"en": ["x"]}, "reply": "{{name}}"}]}
    decision = _agent(config).decide(make_context("x", fields={}))
    assert decision.reply is None and decision.hand_off


def _error(config: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_agent_config(AgentKind.RULES, config)
    return caught.value


def _intent(**changes: Any) -> dict[str, Any]:
    return {"name": "i", "keywords": {"en": ["x"]}, "reply": "ok", **changes}


@pytest.mark.parametrize(
    ("intent", "field", "message"),
    [
        (_intent(patterns={"en": ["(a+)+$"]}), "config.intents[0].patterns", "en[0] '(a+)+$'"),
        (_intent(patterns={"en": ["(oops"]}), "config.intents[0].patterns", "does not compile"),
        (_intent(keywords={}, patterns={}), "config.intents[0]", "no keywords and no patterns"),
        (_intent(reply=None), "config.intents[0]", "needs a reply, or a hand_off"),
        (_intent(reply="Hi {{name"), "config.intents[0].reply", "malformed placeholder"),
        (_intent(reply={"english": "Hi"}), "config.intents[0].reply", "not a language code"),
        (_intent(actions={"outcome": "Not OK"}), "config.intents[0].actions.outcome", "outcome"),
        (_intent(actions={"tags": ["!!"]}), "config.intents[0].actions.tags", "not a valid tag"),
        (_intent(name="Confirm"), "config.intents[0].name", "pattern"),
        (_intent(colour="red"), "config.intents[0].colour", "Extra inputs"),
    ],
)
def test_configuration_errors_name_the_field(
    intent: dict[str, Any], field: str, message: str
) -> None:
    error = _error({"intents": [intent]})
    assert error.field == field
    assert message in error.message
    assert error.code == "invalid_agent_config"


def test_duplicate_intent_names_are_refused() -> None:
    assert "unique: i" in _error({"intents": [_intent(), _intent()]}).message


def test_a_silent_fallback_is_refused() -> None:
    error = _error({"intents": [_intent()], "fallback": {"actions": {"hand_off": False}}})
    assert error.field == "config.fallback"


def test_validated_config_round_trips() -> None:
    stored = validate_agent_config(AgentKind.RULES, CONFIG)
    assert validate_agent_config(AgentKind.RULES, stored) == stored
    assert stored["intents"][0]["actions"]["tags"] == ["reschedule"]


DEFAULT_CASES = [
    ("Yes", "confirm", "confirmed", False, False),
    ("ok 👍", "confirm", "confirmed", False, False),
    ("Oui, je confirme", "confirm", "confirmed", False, False),
    ("Sorry, I can't make it", "reschedule", "reschedule", True, False),
    ("¿Podemos cambiar la fecha?", "reschedule", "reschedule", True, False),
    ("Kann nicht, bitte verschieben", "reschedule", "reschedule", True, False),
    ("Please remove me from this list", "opt_out", None, False, True),
    ("No me escriban más", "opt_out", None, False, True),
    ("not interested, thanks", "decline", "not_interested", False, False),
    ("What's the address?", "question", None, True, False),
    ("Hello", "greeting", None, False, False),
    ("Bom dia", "greeting", None, False, False),
    ("purple elephant", None, None, True, False),
]


@pytest.mark.parametrize(("text", "intent", "outcome", "hand_off", "opt_out"), DEFAULT_CASES)
def test_the_default_agent(
    text: str, intent: str | None, outcome: str | None, hand_off: bool, opt_out: bool
) -> None:
    decision = _agent(DEFAULT_AGENT_CONFIG).decide(make_context(text))
    expected_note = f"intent {intent}" if intent else "no intent matched"
    assert decision.note is not None and decision.note.startswith(expected_note)
    assert (decision.outcome, decision.hand_off, decision.opt_out) == (outcome, hand_off, opt_out)
    assert decision.reply and "{{" not in decision.reply and not decision.is_silent


def test_the_default_agent_replies_in_the_language_it_read() -> None:
    agent = _agent(DEFAULT_AGENT_CONFIG)
    spanish = agent.decide(make_context("Sí")).reply
    assert spanish == "¡Gracias! Tu cita queda confirmada. ¡Hasta pronto!"
    greeting = agent.decide(make_context("Hi", fields={"name": "Sam"})).reply
    assert greeting is not None and greeting.startswith("Hello Sam!")
