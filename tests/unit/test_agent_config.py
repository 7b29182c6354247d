"""Per-kind configuration of llm and webhook agents; the factory."""

from __future__ import annotations

from typing import Any

import pytest

from herald.agents.config import redact_config, validate_agent_config
from herald.agents.factory import build_agent
from herald.agents.rules import RulesAgent
from herald.domain.agents import AgentKind
from herald.errors import ConfigurationError, ValidationError
from herald.testing import FakeClock

LLM = {"base_url": "https://llm.example.test/v1/", "model": "m", "api_key_env": "LLM_KEY"}
WEBHOOK = {"url": "https://bot.example.test/herald", "secret": "s" * 20}


def _field_of_error(kind: AgentKind, config: dict[str, Any]) -> tuple[str | None, str]:
    with pytest.raises(ValidationError) as caught:
        validate_agent_config(kind, config)
    return caught.value.field, caught.value.message


def test_llm_config_is_normalised_with_defaults() -> None:
    stored = validate_agent_config(AgentKind.LLM, LLM)
    assert stored["base_url"] == "https://llm.example.test/v1"
    assert stored["timeout_seconds"] == 20 and stored["temperature"] == 0.2
    assert stored["holding_reply"].startswith("Thanks for your message")


def test_an_api_key_in_the_config_is_refused() -> None:
    field, message = _field_of_error(AgentKind.LLM, {**LLM, "api_key": "sk-123"})
    assert field == "config" and "environment variable" in message
    assert "sk-123" not in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base_url": "ftp://x"}, "config.base_url"),
        ({"base_url": "https://user:pw@x.test"}, "config.base_url"),
        ({"api_key_env": "MY KEY"}, "config.api_key_env"),
        ({"temperature": 3}, "config.temperature"),
        ({"timeout_seconds": 0}, "config.timeout_seconds"),
        ({"model": ""}, "config.model"),
    ],
)
def test_bad_llm_settings_name_the_field(change: dict[str, Any], field: str) -> None:
    assert _field_of_error(AgentKind.LLM, {**LLM, **change})[0] == field


def test_a_webhook_without_secret_gets_a_generated_one() -> None:
    first = validate_agent_config(AgentKind.WEBHOOK, {"url": WEBHOOK["url"]})
    second = validate_agent_config(AgentKind.WEBHOOK, {"url": WEBHOOK["url"]})
    assert len(first["secret"]) >= 40 and first["secret"] != second["secret"]
    assert validate_agent_config(AgentKind.WEBHOOK, first)["secret"] == first["secret"]


def test_a_short_webhook_secret_is_refused() -> None:
    assert _field_of_error(AgentKind.WEBHOOK, {**WEBHOOK, "secret": "short"})[0] == "config.secret"


def test_redaction_hides_the_webhook_secret() -> None:
    shown = redact_config(AgentKind.WEBHOOK, {**WEBHOOK, "secret": "abcdefghijklmnopWXYZ"})
    assert shown["secret"] == "…WXYZ" and shown["url"] == WEBHOOK["url"]
    assert redact_config(AgentKind.LLM, LLM) == LLM


def test_remote_kinds_need_an_http_session() -> None:
    with pytest.raises(ConfigurationError, match="HTTP client session"):
        build_agent(AgentKind.WEBHOOK, WEBHOOK, clock=FakeClock())
    rules = {"intents": [{"name": "x", "keywords": {"en": ["x"]}, "reply": "ok"}]}
    assert isinstance(build_agent(AgentKind.RULES, rules, clock=FakeClock()), RulesAgent)


def test_the_factory_validates_stored_config_again() -> None:
    with pytest.raises(ValidationError):
        build_agent(AgentKind.RULES, {"intents": []}, clock=FakeClock())
