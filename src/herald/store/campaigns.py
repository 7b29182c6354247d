"""Campaigns and their progress counters.

A campaign row holds what the builder stores: name and tags, the audience
copy it sends to, the pinned agent version, the journey definition (as JSON,
possibly incomplete while a draft) and the schedule. A campaign applied from
a spec file remembers which file its audience came from and a SHA-256 of
its content (``audience_source_*``), so applying the same spec again does
not import the same contacts twice. Progress is kept in
``campaign_counters`` as named integers updated by deltas in bulk, so a
progress page never scans the journeys table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from herald.store.base import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    tag: Mapped[str] = mapped_column(String(64), unique=True)
    extra_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), index=True)
    audience_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("audiences.id", ondelete="RESTRICT")
    )
    agent_version_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agent_versions.id", ondelete="RESTRICT")
    )
    audience_source_path: Mapped[str | None] = mapped_column(String(1000))
    audience_source_sha256: Mapped[str | None] = mapped_column(String(64))
    journey: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    default_region: Mapped[str] = mapped_column(String(2))
    schedule_local: Mapped[str | None] = mapped_column(String(32))
    schedule_timezone: Mapped[str | None] = mapped_column(String(64))
    schedule_utc_offset: Mapped[str | None] = mapped_column(String(8))
    start_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    contact_count: Mapped[int] = mapped_column(Integer, default=0)
    has_started: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    launched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CampaignCounterRow(Base):
    __tablename__ = "campaign_counters"

    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def add_to_counters(session: Session, deltas: Mapping[tuple[int, str], int]) -> None:
    """Add each delta to its counter, creating counters at zero as needed.

    One upsert for the whole batch; concurrent workers adding to the same
    counter serialise on its row for the length of one statement.
    """
    rows = [
        {"campaign_id": campaign_id, "name": name, "value": delta}
        for (campaign_id, name), delta in sorted(deltas.items())
        if delta != 0
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(CampaignCounterRow).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["campaign_id", "name"],
        set_={"value": CampaignCounterRow.value + statement.excluded.value},
    )
    session.execute(statement)


def read_counters(
    session: Session, campaign_id: int, *, prefix: str | None = None
) -> dict[str, int]:
    """The campaign's counters, or only those whose name starts with ``prefix``.

    Callers on hot paths (the completion check) pass a prefix so they do not
    fetch the per-minute timeline counters. A LIKE rather than a name range:
    PostgreSQL compares text by the database's collation, in which ``:``
    need not sort where its code point does.
    """
    query = select(CampaignCounterRow.name, CampaignCounterRow.value).where(
        CampaignCounterRow.campaign_id == campaign_id
    )
    if prefix:
        query = query.where(CampaignCounterRow.name.startswith(prefix, autoescape=True))
    return {name: value for name, value in session.execute(query)}


OUTCOME_COUNTER_PREFIX = "outcome:"


def completed_counts(session: Session, campaign_ids: list[int]) -> dict[int, int]:
    """Contacts with an outcome, per campaign: a sum over the outcome counters,
    never a count of journeys, so lists of big campaigns stay cheap."""
    if not campaign_ids:
        return {}
    query = (
        select(CampaignCounterRow.campaign_id, func.sum(CampaignCounterRow.value))
        .where(
            CampaignCounterRow.campaign_id.in_(campaign_ids),
            CampaignCounterRow.name.startswith(OUTCOME_COUNTER_PREFIX, autoescape=True),
        )
        .group_by(CampaignCounterRow.campaign_id)
    )
    return {campaign_id: int(total or 0) for campaign_id, total in session.execute(query)}
