"""Integrations: configured provider accounts.

Non-secret settings are stored as JSON; secret settings as one encrypted
blob, so a database dump reveals no credentials. Health is recorded here so
every worker sees an integration marked unhealthy by any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from herald.store.base import Base, UtcDateTime


class IntegrationRow(Base):
    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    encrypted_secrets: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_limit_per_second: Mapped[float] = mapped_column(Float)
    health: Mapped[str] = mapped_column(String(16), default="unknown")
    health_reason: Mapped[str | None] = mapped_column(Text)
    health_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
