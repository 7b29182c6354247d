"""Journeys, the messages they send, and each contact's timeline.

One ``journeys`` row per contact of a launched campaign holds the state
machine's state (JSON) plus the columns the engine queries: ``due_at`` (the
next moment a worker must look at it) and the lease. One ``messages`` row per
(journey, step) is written *before* the provider is called — the intent —
so a crash can never lead to a second call for the same step. Timeline
entries (``journey_log``) explain every move to the user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from herald.store.base import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class JourneyRow(Base):
    __tablename__ = "journeys"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id"),
        Index("ix_journeys_due", "due_at"),
        Index("ix_journeys_campaign_phase", "campaign_id", "phase"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("audience_contacts.id", ondelete="RESTRICT")
    )
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)  # lower-cased
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    phase: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("journey_id", "step"),
        Index("ix_messages_campaign_status", "campaign_id", "status"),
        Index("ix_messages_provider_id", "provider_message_id"),
        # Message logs page by id within a campaign, and filter by error code;
        # only failed messages carry a code, so that index stays small.
        Index("ix_messages_campaign_log", "campaign_id", "id"),
        Index(
            "ix_messages_campaign_error",
            "campaign_id",
            "error_code",
            "id",
            sqlite_where=text("error_code IS NOT NULL"),
            postgresql_where=text("error_code IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    journey_id: Mapped[int] = mapped_column(BigId, ForeignKey("journeys.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    integration_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("integrations.id", ondelete="RESTRICT")
    )
    key: Mapped[str] = mapped_column(String(64), unique=True)
    to_address: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_title: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    preview: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class JourneyLogRow(Base):
    __tablename__ = "journey_log"
    __table_args__ = (
        Index("ix_journey_log_journey", "journey_id", "id"),
        Index("ix_journey_log_campaign_error", "campaign_id", "error_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    journey_id: Mapped[int] = mapped_column(BigId, ForeignKey("journeys.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    step: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    error_code: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


JOURNEYS = Base.metadata.tables[JourneyRow.__tablename__]
MESSAGES = Base.metadata.tables[MessageRow.__tablename__]
JOURNEY_LOG = Base.metadata.tables[JourneyLogRow.__tablename__]
