"""Agent configuration per kind: validation, secrets, redaction.

A version's configuration is JSON stored with the version. It is validated
with the model of its kind before it is saved and again when an agent is
built from it. Secrets:

- ``llm``: the API key is never part of the configuration; ``api_key_env``
  names the environment variable read at call time.
- ``webhook``: ``secret`` is the HMAC key shared with the bot; Herald
  generates one when the configuration has none. :func:`redact_config` masks
  it for display.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from herald.agents.base import DEFAULT_HOLDING_REPLY
from herald.agents.rules_config import RulesAgentConfig
from herald.domain.agents import AgentKind
from herald.errors import ValidationError

MIN_SECRET_CHARS = 16


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise ValueError("credentials do not belong in the URL")
    return url


class _RemoteAgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    max_reply_chars: int = Field(default=1000, ge=1, le=4096)
    holding_reply: str | None = Field(default=DEFAULT_HOLDING_REPLY, max_length=1000)
    history_messages: int = Field(default=20, ge=0, le=100)

    @field_validator("holding_reply")
    @classmethod
    def _blank_is_none(cls, reply: str | None) -> str | None:
        return reply.strip() or None if reply is not None else None


class LlmAgentConfig(_RemoteAgentConfig):
    base_url: str = Field(max_length=500)  # e.g. https://api.openai.com/v1
    model: str = Field(min_length=1, max_length=200)
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
    system_prompt: str = Field(default="", max_length=20_000)
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32_768)

    @model_validator(mode="before")
    @classmethod
    def _no_key_in_config(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "api_key" in data:
            raise ValueError(
                "do not store the API key in the agent: put it in an environment "
                "variable and give its name as api_key_env"
            )
        return data

    @field_validator("base_url")
    @classmethod
    def _url(cls, url: str) -> str:
        return _check_url(url).rstrip("/")


class WebhookAgentConfig(_RemoteAgentConfig):
    url: str = Field(max_length=2000)
    secret: str = Field(min_length=MIN_SECRET_CHARS, max_length=256)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        return _check_url(url)


AgentConfig = RulesAgentConfig | LlmAgentConfig | WebhookAgentConfig
_MODELS: dict[AgentKind, type[AgentConfig]] = {
    AgentKind.RULES: RulesAgentConfig,
    AgentKind.LLM: LlmAgentConfig,
    AgentKind.WEBHOOK: WebhookAgentConfig,
}


def parse_agent_config(kind: AgentKind, raw: Mapping[str, Any]) -> AgentConfig:
    """The typed configuration, or a :class:`ValidationError` naming the faulty field."""
    try:
        return _MODELS[kind].model_validate(dict(raw))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        path = _path(first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ValidationError(
            f"{kind.value} agent config{' ' + path if path else ''}: {message}{more}",
            code="invalid_agent_config",
            field=f"config.{path}" if path else "config",
        ) from exc


def validate_agent_config(kind: AgentKind, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised JSON to store; fills in a webhook secret when there is none."""
    data = dict(raw)
    if kind is AgentKind.WEBHOOK and not data.get("secret"):
        data["secret"] = generate_webhook_secret()
    return parse_agent_config(kind, data).model_dump(mode="json")


def generate_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def redact_config(kind: AgentKind, config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration fit for display: the webhook secret shows its last 4 characters."""
    shown = dict(config)
    if kind is AgentKind.WEBHOOK and isinstance(shown.get("secret"), str):
        shown["secret"] = "…" + shown["secret"][-4:]
    return shown


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
