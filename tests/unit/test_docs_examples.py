"""The configuration examples in docs/agents.md are valid configurations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from herald.agents.config import validate_agent_config
from herald.domain.agents import AgentKind

DOC = Path(__file__).parents[2] / "docs" / "agents.md"


def _json_blocks() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return [json.loads(block) for block in blocks]


def _kind_of(block: dict[str, Any]) -> AgentKind | None:
    if "intents" in block:
        return AgentKind.RULES
    if "base_url" in block:
        return AgentKind.LLM
    if "secret" in block:
        return AgentKind.WEBHOOK
    return None


EXAMPLES = [(kind, block) for block in _json_blocks() if (kind := _kind_of(block))]


def test_every_kind_has_an_example() -> None:
    assert {kind for kind, _ in EXAMPLES} == set(AgentKind)


@pytest.mark.parametrize(("kind", "config"), EXAMPLES)
def test_documented_configurations_validate(kind: AgentKind, config: dict[str, Any]) -> None:
    validate_agent_config(kind, config)
