"""Sending a batch's messages: concurrently, within every integration's rate.

Sends of one integration start as the shared token bucket grants capacity;
different integrations proceed in parallel. A send whose client raises
instead of answering is recorded as :class:`SendUnknown` — the request may
have left — so it is never repeated. Campaign messages and conversation
replies go through the same dispatcher (anything with an integration, a
campaign or none, and a message), so both share every rate limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from herald.channels.base import OutboundMessage, SendResult, SendUnknown
from herald.engine.batch import PendingSend
from herald.engine.clients import ClientEntry, ClientPool
from herald.engine.rate_limit import DatabaseRateLimiter

logger = logging.getLogger(__name__)


class Sendable(Protocol):
    @property
    def integration_id(self) -> int: ...

    @property
    def campaign_id(self) -> int | None: ...

    @property
    def message(self) -> OutboundMessage: ...


S = TypeVar("S", bound=Sendable)
SendOutcome = tuple[PendingSend, SendResult]


class Dispatcher:
    def __init__(self, clients: ClientPool, limiter: DatabaseRateLimiter) -> None:
        self._clients = clients
        self._limiter = limiter

    async def send_all(
        self,
        sends: Sequence[S],
        *,
        is_held: Callable[[int], bool] = lambda _campaign_id: False,
    ) -> tuple[list[tuple[S, SendResult]], list[S]]:
        """Send everything; ``is_held(campaign_id)`` stops a paused campaign's remainder.

        Returns the outcomes and the sends never started because their
        campaign was paused meanwhile (the caller gives those back).
        """
        by_integration: defaultdict[int, list[S]] = defaultdict(list)
        for send in sends:
            by_integration[send.integration_id].append(send)
        held: list[S] = []
        groups = await asyncio.gather(
            *(self._send_group(iid, group, is_held, held) for iid, group in by_integration.items())
        )
        return [outcome for group in groups for outcome in group], held

    async def _send_group(
        self,
        integration_id: int,
        sends: list[S],
        is_held: Callable[[int], bool],
        held: list[S],
    ) -> list[tuple[S, SendResult]]:
        entry = await self._clients.get(integration_id)
        tasks: list[asyncio.Task[tuple[S, SendResult]]] = []
        remaining = list(sends)
        while remaining:
            granted = await self._limiter.acquire(
                integration_id, len(remaining), entry.rate_per_second
            )
            chunk, remaining = remaining[:granted], remaining[granted:]
            for send in chunk:
                if send.campaign_id is not None and is_held(send.campaign_id):
                    held.append(send)
                    continue
                tasks.append(asyncio.create_task(self._send_one(entry, send)))
        return list(await asyncio.gather(*tasks))

    async def _send_one(self, entry: ClientEntry, send: S) -> tuple[S, SendResult]:
        try:
            return send, await entry.client.send(send.message)
        except Exception as exc:  # a client bug must not lose track of a send
            logger.exception("send %s raised; recording its outcome as unknown", send.message.key)
            return send, SendUnknown(f"client error: {type(exc).__name__}: {exc}")
