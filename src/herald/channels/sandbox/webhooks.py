"""Delivers the sandbox's webhooks to Herald, later and with retries.

Providers retry failed webhooks for hours or days; the sandbox retries a few
times with a short backoff, enough for Herald restarting during a test.
Every delivery is a task tracked here so :meth:`close` can wait for or
cancel what is still pending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import aiohttp
import yarl

from herald.channels.sandbox.log import SandboxLog

logger = logging.getLogger(__name__)

RETRY_DELAYS_SECONDS = (0.2, 1.0, 3.0)
# Webhooks posted at once; the rest wait their turn here. Waiting inside
# aiohttp's connection pool instead would count against each request's
# timeout, and a burst of statuses would fail without reaching Herald.
MAX_CONCURRENT_WEBHOOKS = 64


class WebhookSender:
    def __init__(self, session: aiohttp.ClientSession, log: SandboxLog) -> None:
        self._session = session
        self._log = log
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_WEBHOOKS)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def schedule(
        self, url: str, body: bytes, headers: Mapping[str, str], *, delay_seconds: float = 0.0
    ) -> None:
        """POST ``body`` to ``url`` after ``delay_seconds`` (real seconds)."""
        task = asyncio.get_running_loop().create_task(
            self._deliver(url, body, dict(headers), delay_seconds)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, url: str, body: bytes, headers: dict[str, str], delay_seconds: float
    ) -> None:
        if delay_seconds > 0:
            await asyncio.sleep(delay_seconds)
        for attempt, backoff in enumerate((*RETRY_DELAYS_SECONDS, None)):
            try:
                # encoded=True: request the URL byte for byte as Herald gave it, since
                # signatures (Twilio) cover the exact URL, percent-escapes included.
                target = yarl.URL(url, encoded=True)
                async with (
                    self._slots,
                    self._session.post(target, data=body, headers=headers) as response,
                ):
                    await response.read()
                    if response.status < 500 and response.status != 429:
                        self._count(ok=response.status < 300, url=url, status=response.status)
                        return
            except (aiohttp.ClientError, TimeoutError) as exc:
                logger.debug("webhook to %s failed (attempt %d): %s", url, attempt + 1, exc)
            if backoff is None:
                break
            await asyncio.sleep(backoff)
        self._count(ok=False, url=url, status=None)

    def _count(self, *, ok: bool, url: str, status: int | None) -> None:
        if ok:
            self._log.webhooks_delivered += 1
        else:
            self._log.webhooks_failed += 1
            logger.warning("webhook to %s not accepted (status %s)", url, status)

    async def drain(self, timeout_seconds: float = 10.0) -> None:
        """Wait until every scheduled webhook has been delivered or given up."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_seconds)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
