"""Channel clients per integration, built on demand and shared by a worker.

One aiohttp session serves every HTTP provider so keep-alive connections are
reused across batches. Clients are rebuilt when their integration changes
(settings edited, activated, deactivated).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from herald.channels.base import ChannelClient


@dataclass(frozen=True)
class ClientEntry:
    client: ChannelClient
    rate_per_second: float
    is_active: bool
    health: str
    updated_at: datetime


ClientBuilder = Callable[[int], ClientEntry]


class ClientPool:
    """Caches clients per integration; ``build`` (blocking) makes one from storage."""

    def __init__(self, build: ClientBuilder) -> None:
        self._build = build
        self._entries: dict[int, ClientEntry] = {}
        self._lock = asyncio.Lock()

    async def get(self, integration_id: int) -> ClientEntry:
        async with self._lock:
            entry = self._entries.get(integration_id)
            if entry is None:
                entry = await asyncio.to_thread(self._build, integration_id)
                self._entries[integration_id] = entry
            return entry

    def forget(self, integration_id: int) -> None:
        """Drop a client so the next use rebuilds it from the stored settings."""
        self._entries.pop(integration_id, None)
