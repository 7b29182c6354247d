"""Agents and their versions.

An agent is a name and a kind; what it does lives in numbered versions, each
with a JSON configuration. A version with ``published_at`` set is frozen:
campaigns pin its id, so its configuration must never change again (the
services refuse edits; nothing here updates a published row).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.store.base import Base, UtcDateTime

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 1000


class AgentRow(Base):
    __tablename__ = "agents"
    __table_args__ = (CheckConstraint("kind IN ('rules', 'llm', 'webhook')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    # The folded name: "Support Bot" and "support bot" cannot both exist.
    name_key: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX_LENGTH), default="")
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AgentVersionRow(Base):
    __tablename__ = "agent_versions"
    __table_args__ = (UniqueConstraint("agent_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


def find_agent_row(session: Session, agent_id: int) -> AgentRow | None:
    return session.get(AgentRow, agent_id)


def find_agent_row_by_key(session: Session, name_key: str) -> AgentRow | None:
    return session.scalars(select(AgentRow).where(AgentRow.name_key == name_key)).first()


def list_agent_rows(session: Session) -> list[AgentRow]:
    return list(session.scalars(select(AgentRow).order_by(AgentRow.name_key)))


def find_version_row(session: Session, version_id: int) -> AgentVersionRow | None:
    return session.get(AgentVersionRow, version_id)


def version_rows(session: Session, agent_id: int) -> list[AgentVersionRow]:
    statement = (
        select(AgentVersionRow)
        .where(AgentVersionRow.agent_id == agent_id)
        .order_by(AgentVersionRow.number)
    )
    return list(session.scalars(statement))


def latest_published_rows(session: Session) -> list[tuple[AgentRow, AgentVersionRow]]:
    """Each agent with its highest-numbered published version (agents without one omitted)."""
    latest = (
        select(AgentVersionRow.agent_id, func.max(AgentVersionRow.number).label("number"))
        .where(AgentVersionRow.published_at.is_not(None))
        .group_by(AgentVersionRow.agent_id)
        .subquery()
    )
    statement = (
        select(AgentRow, AgentVersionRow)
        .join(AgentVersionRow, AgentVersionRow.agent_id == AgentRow.id)
        .join(
            latest,
            (latest.c.agent_id == AgentVersionRow.agent_id)
            & (latest.c.number == AgentVersionRow.number),
        )
        .order_by(AgentRow.name_key)
    )
    return [(agent, version) for agent, version in session.execute(statement)]
