"""The cached template list of each WhatsApp integration.

One row per integration: the templates as JSON (a bounded list, read
whole), when they were last fetched successfully, when a fetch was last
tried and why it failed. Pages and checks read this row instead of calling
Meta on every render; the services decide when it is stale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from herald.store.base import Base, UtcDateTime


class TemplateCacheRow(Base):
    __tablename__ = "whatsapp_template_caches"

    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    # The account the templates were read from: a changed waba_id makes the cache stale.
    waba_id: Mapped[str] = mapped_column(String(64))
    templates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    is_complete: Mapped[bool] = mapped_column(Boolean, default=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    error: Mapped[str | None] = mapped_column(Text)
