"""The complete schema: importing this module registers every table.

Alembic and the test fixtures read ``metadata`` from here, so a table module
that is not imported here does not exist as far as migrations are concerned.
"""

from __future__ import annotations

from herald.store import (  # noqa: F401
    agents,
    api_keys,
    audiences,
    audit,
    campaigns,
    conversations,
    idempotency,
    inbox,
    integrations,
    journeys,
    outbound_webhooks,
    rate_limits,
    suppression,
    users,
    whatsapp_templates,
    workers,
)
from herald.store.base import Base

metadata = Base.metadata

__all__ = ["metadata"]
