"""Fakes shipped with the package, for Herald's tests and for users' own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from herald.domain.agents import AgentContext, AgentDecision


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time does not run backwards")
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        if moment < self._now:
            raise ValueError("time does not run backwards")
        self._now = moment


class ScriptedAgent:
    """An agent that answers with prepared decisions and remembers what it was asked.

    Decisions are used in order; the last one repeats. For tests of reply
    routing that must not depend on the rules, an LLM or a bot.
    """

    def __init__(self, *decisions: AgentDecision) -> None:
        if not decisions:
            raise ValueError("give at least one decision")
        self._decisions = list(decisions)
        self.contexts: list[AgentContext] = []

    async def respond(self, context: AgentContext) -> AgentDecision:
        self.contexts.append(context)
        if len(self._decisions) > 1:
            return self._decisions.pop(0)
        return self._decisions[0]
