"""Building a runnable agent from a version's kind and configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from herald.agents.base import Agent
from herald.agents.config import LlmAgentConfig, WebhookAgentConfig, parse_agent_config
from herald.agents.llm import LlmAgent
from herald.agents.rules import RulesAgent
from herald.agents.rules_config import RulesAgentConfig
from herald.agents.webhook import WebhookAgent
from herald.clock import Clock
from herald.domain.agents import AgentKind
from herald.errors import ConfigurationError


def build_agent(
    kind: AgentKind,
    config: Mapping[str, Any],
    *,
    clock: Clock,
    http: aiohttp.ClientSession | None = None,
    environ: Mapping[str, str] | None = None,
) -> Agent:
    """The agent for ``config`` (validated again: stored JSON is not trusted blindly).

    ``http`` is the process's shared client session; remote kinds (``llm``,
    ``webhook``) need it. ``environ`` replaces ``os.environ`` for reading the
    LLM key (tests); it is read at each call, never here.
    """
    parsed = parse_agent_config(kind, config)
    if isinstance(parsed, RulesAgentConfig):
        return RulesAgent(parsed)
    if http is None:
        raise ConfigurationError(f"a {kind.value} agent needs an HTTP client session")
    if isinstance(parsed, LlmAgentConfig):
        return LlmAgent(parsed, http=http, environ=environ)
    assert isinstance(parsed, WebhookAgentConfig)
    return WebhookAgent(parsed, http=http, clock=clock)
