"""The agent registry: agents, versions, publishing, the built-in default, loading.

Lifecycle of a version::

    save_draft ──> draft (editable: edit_version / save_draft)
                     │ publish_version
                     v
                  published (frozen; campaigns pin its id)

At most one draft exists per agent: :func:`save_draft` edits it, or opens
version N+1 when every version is published. Editing a published version is
refused (``version_frozen``). The built-in agent is maintained by Herald
(:func:`ensure_default_agent`) and refuses edits; copy its configuration into
an agent of your own to change it.

Functions take the caller's ``Session`` and do not commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from herald.agents.base import Agent
from herald.agents.config import validate_agent_config
from herald.agents.default import (
    DEFAULT_AGENT_CONFIG,
    DEFAULT_AGENT_DESCRIPTION,
    DEFAULT_AGENT_NAME,
)
from herald.agents.factory import build_agent
from herald.clock import Clock
from herald.domain.agents import AgentKind
from herald.domain.folding import fold
from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.store import agents as store
from herald.store.agents import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    AgentRow,
    AgentVersionRow,
)


@dataclass(frozen=True)
class AgentInfo:
    id: int
    name: str
    kind: AgentKind
    description: str
    is_builtin: bool
    created_at: datetime


@dataclass(frozen=True)
class AgentVersion:
    id: int
    agent_id: int
    number: int
    config: dict[str, Any]
    created_at: datetime
    published_at: datetime | None

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


@dataclass(frozen=True)
class AgentChoice:
    """One line of the campaign's agent picker: an agent at its latest published version."""

    agent: AgentInfo
    version: AgentVersion


def _info(row: AgentRow) -> AgentInfo:
    return AgentInfo(
        row.id, row.name, AgentKind(row.kind), row.description, row.is_builtin, row.created_at
    )


def _version(row: AgentVersionRow) -> AgentVersion:
    return AgentVersion(
        row.id, row.agent_id, row.number, dict(row.config), row.created_at, row.published_at
    )


def create_agent(
    session: Session,
    *,
    name: str,
    kind: AgentKind,
    config: Mapping[str, Any],
    clock: Clock,
    description: str = "",
) -> tuple[AgentInfo, AgentVersion]:
    """A new agent with its configuration as draft version 1."""
    return _create(session, name, kind, config, clock, description, builtin=False)


def _create(
    session: Session,
    name: str,
    kind: AgentKind,
    config: Mapping[str, Any],
    clock: Clock,
    description: str,
    *,
    builtin: bool,
) -> tuple[AgentInfo, AgentVersion]:
    name, key = _checked_name(name)
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError("description is too long", field="description")
    stored = validate_agent_config(kind, config)
    if store.find_agent_row_by_key(session, key) is not None:
        raise ConflictError(f"an agent named {name!r} already exists", field="name")
    agent = AgentRow(
        name=name,
        name_key=key,
        kind=kind.value,
        description=description,
        is_builtin=builtin,
        created_at=clock.now(),
    )
    version = AgentVersionRow(number=1, config=stored, created_at=clock.now())
    with _duplicates_conflict(f"an agent named {name!r} already exists"):
        session.add(agent)
        session.flush()
        version.agent_id = agent.id
        session.add(version)
        session.flush()
    return _info(agent), _version(version)


def _checked_name(name: str) -> tuple[str, str]:
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError(f"name must be 1 to {NAME_MAX_LENGTH} characters", field="name")
    return name, fold(name)


@contextmanager
def _duplicates_conflict(message: str) -> Iterator[None]:
    """Turn a uniqueness violation raised by a flush into a ConflictError.

    The check before the insert makes this the rare race of two concurrent
    requests; the caller's transaction is then failed and must be rolled back.
    """
    try:
        yield
    except sa_exc.IntegrityError as exc:
        raise ConflictError(message) from exc


def get_agent(session: Session, agent_id: int) -> AgentInfo:
    return _info(_agent_row(session, agent_id))


def find_agent_by_name(session: Session, name: str) -> AgentInfo | None:
    row = store.find_agent_row_by_key(session, fold(" ".join(name.split())))
    return None if row is None else _info(row)


def list_agents(session: Session) -> list[AgentInfo]:
    return [_info(row) for row in store.list_agent_rows(session)]


def list_versions(session: Session, agent_id: int) -> list[AgentVersion]:
    _agent_row(session, agent_id)
    return [_version(row) for row in store.version_rows(session, agent_id)]


def get_version(session: Session, version_id: int) -> AgentVersion:
    return _version(_version_row(session, version_id))


def save_draft(
    session: Session, agent_id: int, config: Mapping[str, Any], clock: Clock
) -> AgentVersion:
    """Store ``config`` in the agent's draft, opening version N+1 if all are published."""
    agent = _editable_agent(session, agent_id)
    versions = store.version_rows(session, agent_id)
    latest = versions[-1]
    stored = _validated(agent, config, previous=latest.config)
    if latest.published_at is None:
        latest.config = stored
        session.flush()
        return _version(latest)
    draft = AgentVersionRow(
        agent_id=agent_id, number=latest.number + 1, config=stored, created_at=clock.now()
    )
    with _duplicates_conflict(f"version {draft.number} of {agent.name!r} was created meanwhile"):
        session.add(draft)
        session.flush()
    return _version(draft)


def edit_version(session: Session, version_id: int, config: Mapping[str, Any]) -> AgentVersion:
    """Replace the configuration of a draft version; published versions are frozen."""
    row = _version_row(session, version_id)
    agent = _editable_agent(session, row.agent_id)
    if row.published_at is not None:
        raise ConflictError(
            f"version {row.number} of agent {agent.name!r} is published and frozen; "
            "save a new draft instead",
            code="version_frozen",
        )
    row.config = _validated(agent, config, previous=row.config)
    session.flush()
    return _version(row)


def publish_version(session: Session, version_id: int, clock: Clock) -> AgentVersion:
    """Freeze a version so campaigns can pin it; publishing twice changes nothing."""
    row = _version_row(session, version_id)
    if row.published_at is None:
        agent = _agent_row(session, row.agent_id)
        validate_agent_config(AgentKind(agent.kind), row.config)
        row.published_at = clock.now()
        session.flush()
    return _version(row)


def latest_published_version(session: Session, agent_id: int) -> AgentVersion | None:
    published = [row for row in store.version_rows(session, agent_id) if row.published_at]
    return _version(published[-1]) if published else None


def published_choices(session: Session) -> list[AgentChoice]:
    """What the campaign picker offers: every agent at its latest published version."""
    return [
        AgentChoice(_info(agent), _version(version))
        for agent, version in store.latest_published_rows(session)
    ]


def ensure_default_agent(session: Session, clock: Clock) -> AgentVersion:
    """Make sure the built-in agent exists and its latest published version is current.

    Idempotent: a second call returns the same version. When Herald ships a
    changed default configuration, a new version is published; campaigns
    pinned to the old one keep it. Call it in its own transaction: a
    concurrent first run raises ConflictError, after which a retry succeeds.
    """
    row = store.find_agent_row_by_key(session, fold(DEFAULT_AGENT_NAME))
    if row is None:
        _, version = _create(
            session,
            DEFAULT_AGENT_NAME,
            AgentKind.RULES,
            DEFAULT_AGENT_CONFIG,
            clock,
            DEFAULT_AGENT_DESCRIPTION,
            builtin=True,
        )
        return publish_version(session, version.id, clock)
    shipped = validate_agent_config(AgentKind.RULES, DEFAULT_AGENT_CONFIG)
    latest = latest_published_version(session, row.id)
    if latest is not None and latest.config == shipped:
        return latest
    number = store.version_rows(session, row.id)[-1].number + 1
    new = AgentVersionRow(agent_id=row.id, number=number, config=shipped, created_at=clock.now())
    session.add(new)
    session.flush()
    return publish_version(session, new.id, clock)


def load_agent(
    session: Session,
    version_id: int,
    *,
    clock: Clock,
    http: aiohttp.ClientSession | None = None,
    environ: Mapping[str, str] | None = None,
    allow_draft: bool = False,
) -> Agent:
    """The runnable agent of a version; drafts only with ``allow_draft`` (trying one out)."""
    row = _version_row(session, version_id)
    if row.published_at is None and not allow_draft:
        raise ConflictError(
            f"agent version {version_id} is a draft; publish it before using it",
            code="version_not_published",
        )
    kind = AgentKind(_agent_row(session, row.agent_id).kind)
    return build_agent(kind, row.config, clock=clock, http=http, environ=environ)


def _agent_row(session: Session, agent_id: int) -> AgentRow:
    row = store.find_agent_row(session, agent_id)
    if row is None:
        raise NotFoundError(f"agent {agent_id} does not exist", field="agent_id")
    return row


def _version_row(session: Session, version_id: int) -> AgentVersionRow:
    row = store.find_version_row(session, version_id)
    if row is None:
        raise NotFoundError(f"agent version {version_id} does not exist", field="version_id")
    return row


def _editable_agent(session: Session, agent_id: int) -> AgentRow:
    agent = _agent_row(session, agent_id)
    if agent.is_builtin:
        raise ConflictError(
            f"{agent.name!r} is built in and maintained by Herald; create your own agent "
            "from its configuration to change it",
            code="builtin_agent",
        )
    return agent


def _validated(
    agent: AgentRow, config: Mapping[str, Any], *, previous: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate for the agent's kind; a webhook edit without a secret keeps the old one."""
    data = dict(config)
    if agent.kind == AgentKind.WEBHOOK and not data.get("secret") and previous.get("secret"):
        data["secret"] = previous["secret"]
    return validate_agent_config(AgentKind(agent.kind), data)
