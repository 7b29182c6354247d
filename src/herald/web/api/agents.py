"""``/api/v1/agents``: reply agents and their versions; save drafts, publish.

A campaign pins a *published* version, so what answers its replies never
changes under it. Configurations come back redacted: a webhook agent's
shared secret shows only its last four characters, and an LLM agent holds
no key at all (only the name of the environment variable with it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from herald.agents.config import redact_config
from herald.domain.agents import AgentKind
from herald.errors import NotFoundError
from herald.services import agents
from herald.services.agents import AgentInfo, AgentVersion
from herald.web.api import API_PREFIX
from herald.web.api.auditing import audit
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import ResourceId
from herald.web.auth import CurrentActor, RequireWrite
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(prefix=f"{API_PREFIX}/agents", tags=["agents"], route_class=IdempotentRoute)

CONFIG_EXAMPLE = {
    "default_language": "en",
    "intents": [
        {
            "name": "reschedule",
            "keywords": {"en": ["reschedule", "another day"]},
            "reply": {"en": "No problem, a colleague will call you to find a new time."},
        }
    ],
}


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120, examples=["Clinic FAQ"])
    kind: AgentKind
    description: str = Field(default="", max_length=2000)
    config: dict[str, Any] = Field(
        description="The kind's configuration; see docs/agents.md.", examples=[CONFIG_EXAMPLE]
    )


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] = Field(examples=[CONFIG_EXAMPLE])


class VersionOut(BaseModel):
    id: int
    agent_id: int
    number: int
    config: dict[str, Any] = Field(description="Redacted: secrets never come back whole.")
    created_at: datetime
    published_at: datetime | None
    is_published: bool

    @classmethod
    def of(cls, version: AgentVersion, kind: AgentKind) -> VersionOut:
        return cls(
            id=version.id,
            agent_id=version.agent_id,
            number=version.number,
            config=redact_config(kind, version.config),
            created_at=version.created_at,
            published_at=version.published_at,
            is_published=version.is_published,
        )


class AgentOut(BaseModel):
    id: int
    name: str
    kind: AgentKind
    description: str
    is_builtin: bool
    created_at: datetime
    versions: list[VersionOut] = Field(description="Oldest first.")

    @classmethod
    def of(cls, agent: AgentInfo, versions: list[AgentVersion]) -> AgentOut:
        return cls(
            id=agent.id,
            name=agent.name,
            kind=agent.kind,
            description=agent.description,
            is_builtin=agent.is_builtin,
            created_at=agent.created_at,
            versions=[VersionOut.of(version, agent.kind) for version in versions],
        )


class AgentListOut(BaseModel):
    items: list[AgentOut]
    next_cursor: str | None = Field(default=None, description="Always null: one page.")


@router.get("", response_model=AgentListOut)
def list_agents(db: SessionDep) -> AgentListOut:
    """Every agent, the built-in one included once Herald has seeded it."""
    return AgentListOut(
        items=[
            AgentOut.of(agent, agents.list_versions(db, agent.id))
            for agent in agents.list_agents(db)
        ]
    )


@router.post("", response_model=AgentOut, status_code=201)
def create_agent(
    body: AgentIn, herald: HeraldDep, db: SessionDep, _who: RequireWrite, actor: CurrentActor
) -> AgentOut:
    """A new agent; its configuration becomes draft version 1 (publish it to use it)."""
    agent, version = agents.create_agent(
        db,
        name=body.name,
        kind=body.kind,
        config=body.config,
        clock=herald.clock,
        description=body.description,
    )
    db.commit()
    audit(herald, db, actor, "agent.created", ("agent", agent.id), {"kind": agent.kind})
    return AgentOut.of(agent, [version])


@router.get("/{agent_id}", response_model=AgentOut)
def get_agent(agent_id: ResourceId, db: SessionDep) -> AgentOut:
    agent = agents.get_agent(db, agent_id)
    return AgentOut.of(agent, agents.list_versions(db, agent_id))


@router.post("/{agent_id}/versions", response_model=VersionOut, status_code=201)
def save_draft(
    agent_id: ResourceId, body: DraftIn, herald: HeraldDep, db: SessionDep, _who: RequireWrite
) -> VersionOut:
    """Save the agent's draft: the open draft is edited, else version N+1 is opened."""
    agent = agents.get_agent(db, agent_id)
    version = agents.save_draft(db, agent_id, body.config, herald.clock)
    db.commit()
    return VersionOut.of(version, agent.kind)


@router.post("/{agent_id}/versions/{version_id}/publish", response_model=VersionOut)
def publish(
    agent_id: ResourceId,
    version_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> VersionOut:
    """Freeze a version so campaigns can pin it; publishing twice changes nothing."""
    agent = agents.get_agent(db, agent_id)
    version = agents.get_version(db, version_id)
    if version.agent_id != agent_id:
        raise NotFoundError(f"agent {agent_id} has no version {version_id}", field="version_id")
    published = agents.publish_version(db, version_id, herald.clock)
    db.commit()
    audit(herald, db, actor, "agent.published", ("agent", agent_id), {"version": published.number})
    return VersionOut.of(published, agent.kind)
