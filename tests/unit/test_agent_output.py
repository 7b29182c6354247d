"""Agent decisions: validation, the never-silent rule, and reading untrusted answers."""

from __future__ import annotations

import pytest

from herald.domain.agent_output import AgentOutputError, extract_json_object, read_decision
from herald.domain.agents import AgentDecision, hand_off_decision, never_silent, normalize_tag


@pytest.mark.parametrize(
    "kwargs",
    [{"reply": "  "}, {"tags": ("Bad Tag",)}, {"outcome": "Confirmed!"},
     {"tags": tuple(f"t{n}" for n in range(11))}],
)  # fmt: skip
def test_invalid_decisions_cannot_be_built(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        AgentDecision(**kwargs)  # type: ignore[arg-type]


def test_tags_are_normalised_like_campaign_tags() -> None:
    assert normalize_tag(" Needs Callback ") == "needs-callback"
    assert normalize_tag("Réservé") == "reserve"
    assert normalize_tag("!!!") is None


def test_a_silent_decision_becomes_a_hand_off_with_the_holding_reply() -> None:
    silent = AgentDecision(outcome="confirmed")
    assert silent.is_silent
    fixed = never_silent(silent, "We will be in touch.")
    assert (fixed.hand_off, fixed.reply, fixed.outcome) == (
        True,
        "We will be in touch.",
        "confirmed",
    )
    assert not fixed.is_silent
    assert never_silent(silent, None).hand_off
    assert never_silent(AgentDecision(reply="Hi"), "x") == AgentDecision(reply="Hi")
    assert not AgentDecision(deferred=True).is_silent
    assert hand_off_decision("timeout", "") == AgentDecision(hand_off=True, note="timeout")


@pytest.mark.parametrize(
    "text",
    [
        '{"reply": "ok"}',
        'Sure! Here is my answer:\n```json\n{"reply": "ok"}\n```\nAnything else?',
        '```\n{"reply": "ok"}\n```',
        'I think {this} is it: {"reply": "ok"} -- done',
        '  {"reply": "ok"}  trailing words',
    ],
)
def test_json_is_found_in_prose_and_fences(text: str) -> None:
    assert extract_json_object(text) == {"reply": "ok"}


@pytest.mark.parametrize("text", ["no json here", "[1, 2]", '{"reply": ', ""])
def test_no_object_is_an_output_error(text: str) -> None:
    with pytest.raises(AgentOutputError):
        extract_json_object(text)


def test_valid_actions_are_kept_and_invalid_ones_dropped() -> None:
    answer = {
        "reply": "  See you Thursday!\x00 ",
        "actions": [
            {"type": "add_tags", "tags": ["Confirmed", "VIP client", 7, "!!"]},
            {"type": "set_outcome", "outcome": "Confirmed"},
            {"type": "set_outcome", "outcome": "reschedule"},
            {"type": "launch_missiles"},
            {"type": "hand_off", "reason": "asked for a discount"},
            "opt_out",
        ],
    }
    read = read_decision(answer, max_reply_chars=100)
    decision = read.decision
    assert decision.reply == "See you Thursday!"
    assert decision.tags == ("confirmed", "vip-client")
    assert decision.outcome == "confirmed"
    assert decision.hand_off and not decision.opt_out
    assert read.dropped == (
        "tags 7, '!!'",
        "second outcome 'reschedule'",
        "unknown action 'launch_missiles'",
        "action without a type: 'opt_out'",
    )
    assert decision.note is not None and decision.note.startswith("handed off: asked for a")


def test_an_over_long_reply_is_refused_and_handed_off() -> None:
    read = read_decision(
        {"reply": "x" * 101, "actions": [{"type": "opt_out"}]}, max_reply_chars=100
    )
    assert read.decision.reply is None
    assert read.decision.hand_off and read.decision.opt_out
    assert read.dropped == ("reply of 101 characters (limit 100)",)


@pytest.mark.parametrize(
    "answer", [{"reply": 42}, {"reply": "ok", "actions": "hand_off"}, {"reply": ["a"]}]
)
def test_wrong_types_make_the_answer_unusable(answer: dict[str, object]) -> None:
    with pytest.raises(AgentOutputError):
        read_decision(answer, max_reply_chars=100)


def test_null_and_missing_fields_are_an_empty_decision() -> None:
    assert read_decision({"reply": None, "actions": None}, max_reply_chars=10).decision.is_silent
    assert read_decision({}, max_reply_chars=10).decision == AgentDecision()
