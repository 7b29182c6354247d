"""Which agent version a campaign pins, and how a choice is resolved.

A campaign always pins one *published* agent version: publishing a newer
version later never changes what a campaign that is already set up
answers with. Without a choice, the built-in default agent's latest
published version is pinned; it is seeded on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.spec import AgentRef
from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.services import agents
from herald.services.agents import AgentChoice, AgentInfo, AgentVersion


@dataclass(frozen=True)
class PinnedAgent:
    """An agent at one version, as a campaign pins it."""

    agent: AgentInfo
    version: AgentVersion

    def as_ref(self) -> AgentRef:
        return AgentRef(name=self.agent.name, version=self.version.number)

    def as_dict(self) -> dict[str, object]:
        return {
            "agent_id": self.agent.id,
            "name": self.agent.name,
            "kind": str(self.agent.kind),
            "is_builtin": self.agent.is_builtin,
            "version": self.version.number,
            "version_id": self.version.id,
        }

    def __str__(self) -> str:
        return f"{self.agent.name} v{self.version.number}"


def default_agent_version(session: Session, clock: Clock) -> AgentVersion:
    """The built-in agent's latest published version, seeding it if needed.

    Runs and commits in the session's current transaction, which must hold
    nothing else: when two processes seed at the same moment, one gets a
    ConflictError, rolls back and finds the other's agent.
    """
    try:
        version = agents.ensure_default_agent(session, clock)
    except ConflictError:
        session.rollback()
        version = agents.ensure_default_agent(session, clock)
    session.commit()
    return version


def agent_choices(session: Session, clock: Clock) -> list[AgentChoice]:
    """Every agent at its latest published version, the built-in one included."""
    default_agent_version(session, clock)
    return agents.published_choices(session)


def pinnable_version(session: Session, version_id: int) -> AgentVersion:
    """A version a campaign may pin: it exists and is published."""
    try:
        version = agents.get_version(session, version_id)
    except NotFoundError as exc:
        raise NotFoundError(exc.message, field="agent_version_id") from exc
    if not version.is_published:
        raise ConflictError(
            f"agent version {version_id} is a draft; publish it before a campaign can use it",
            code="version_not_published",
            field="agent_version_id",
        )
    return version


def latest_version_of(session: Session, agent_id: int, *, field: str = "agent_id") -> AgentVersion:
    """The agent's latest published version; ValidationError when it has none."""
    agent = agents.get_agent(session, agent_id)
    version = agents.latest_published_version(session, agent_id)
    if version is None:
        raise ValidationError(
            f"agent {agent.name!r} has no published version yet; publish one first",
            code="agent_unpublished",
            field=field,
        )
    return version


def resolve_agent(session: Session, ref: AgentRef | None, clock: Clock) -> PinnedAgent:
    """The version a spec's ``agent`` names: a given number, else the latest published one.

    The built-in agent is seeded first, so a spec can name it before anything
    else has used it.
    """
    default = default_agent_version(session, clock)
    if ref is None:
        return PinnedAgent(agents.get_agent(session, default.agent_id), default)
    agent = agents.find_agent_by_name(session, ref.name)
    if agent is None:
        known = ", ".join(repr(item.name) for item in agents.list_agents(session)) or "none"
        raise NotFoundError(f"no agent is named {ref.name!r} (agents: {known})", field="agent.name")
    if ref.version is None:
        return PinnedAgent(agent, latest_version_of(session, agent.id, field="agent.name"))
    for version in agents.list_versions(session, agent.id):
        if version.number == ref.version:
            if not version.is_published:
                raise ConflictError(
                    f"version {ref.version} of agent {agent.name!r} is a draft; publish it first",
                    code="version_not_published",
                    field="agent.version",
                )
            return PinnedAgent(agent, version)
    raise NotFoundError(f"agent {agent.name!r} has no version {ref.version}", field="agent.version")


def pinned_agent(session: Session, version_id: int | None) -> PinnedAgent | None:
    if version_id is None:
        return None
    version = agents.get_version(session, version_id)
    return PinnedAgent(agents.get_agent(session, version.agent_id), version)
