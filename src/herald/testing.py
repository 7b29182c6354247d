"""Fakes shipped with the package, for Herald's tests and for users' own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from herald.channels.base import (
    ConnectionCheck,
    OutboundMessage,
    SendAccepted,
    SendResult,
)
from herald.domain.agents import AgentContext, AgentDecision
from herald.domain.channels import IntegrationKind
from herald.services.passwords import HashParameters, Passwords

# The smallest argon2id cost: real hashes, a fraction of a millisecond each.
FAST_HASH_PARAMETERS = HashParameters(time_cost=1, memory_cost_kib=8, parallelism=1)


def fast_passwords() -> Passwords:
    """A password hasher for tests; never use these parameters for real accounts."""
    return Passwords(FAST_HASH_PARAMETERS)


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


class InMemoryChannel:
    """A channel client that records what it was asked to send.

    ``script`` maps an address to the results its sends return, in order;
    other addresses are accepted with sequential provider ids.
    """

    def __init__(
        self,
        kind: IntegrationKind,
        script: dict[str, list[SendResult]] | None = None,
        *,
        connected: bool = True,
    ) -> None:
        self._kind = kind
        self.script = {address: list(results) for address, results in (script or {}).items()}
        self.sent: list[OutboundMessage] = []
        self.connected = connected

    @property
    def kind(self) -> IntegrationKind:
        return self._kind

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        queued = self.script.get(message.to)
        if queued:
            return queued.pop(0)
        return SendAccepted(provider_message_id=f"{self._kind.value}-{len(self.sent)}")

    async def check_connection(self) -> ConnectionCheck:
        return ConnectionCheck(self.connected, "ok" if self.connected else "rejected credentials")


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
