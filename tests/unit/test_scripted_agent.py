"""The scripted agent fake answers in order and records its contexts."""

from __future__ import annotations

import asyncio

import pytest

from herald.agents.base import Agent
from herald.domain.agents import AgentDecision
from herald.testing import ScriptedAgent
from tests.agents_support import make_context


def test_decisions_come_in_order_then_the_last_repeats() -> None:
    first, last = AgentDecision(reply="one"), AgentDecision(hand_off=True)
    agent: Agent = ScriptedAgent(first, last)

    async def ask(text: str) -> AgentDecision:
        return await agent.respond(make_context(text))

    assert [asyncio.run(ask(t)) for t in ("a", "b", "c")] == [first, last, last]
    assert isinstance(agent, ScriptedAgent)
    assert [c.inbound.text for c in agent.contexts] == ["a", "b", "c"]


def test_a_script_needs_a_decision() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ScriptedAgent()
