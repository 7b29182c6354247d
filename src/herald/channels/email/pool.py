"""Authenticated SMTP connections kept open between sends, and a send rate.

Opening an SMTP session costs several round trips (greeting, EHLO,
STARTTLS, EHLO again, AUTH) and a TLS handshake; a campaign sends thousands
of messages to the same relay, so sessions are reused. The pool holds at
most ``size`` connections, which also bounds the messages in flight for one
integration. A connection idle for longer than servers typically keep one
open, or that carried many messages (some relays cap messages per
session), is closed instead of reused; one that the server closed while
idle is noticed on its first command and replaced by the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiosmtplib

# Below the idle timeouts of common relays (often 60 s or more).
MAX_IDLE_SECONDS = 30.0
MESSAGES_PER_CONNECTION = 100

Opener = Callable[[], Awaitable[aiosmtplib.SMTP]]


@dataclass
class PooledConnection:
    smtp: aiosmtplib.SMTP
    is_reused: bool
    idle_since: float = 0.0
    messages: int = 0


class SmtpPool:
    """Idle connections, at most ``size`` in use at once."""

    def __init__(self, opener: Opener, size: int) -> None:
        self._open = opener
        self._slots = asyncio.Semaphore(size)
        self._idle: list[PooledConnection] = []

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            yield

    async def checkout(self) -> PooledConnection:
        """A fresh-enough idle connection, or a new one (opening may raise)."""
        now = asyncio.get_running_loop().time()
        while self._idle:
            conn = self._idle.pop()
            if conn.smtp.is_connected and now - conn.idle_since < MAX_IDLE_SECONDS:
                conn.is_reused = True
                return conn
            await close_quietly(conn.smtp)
        return PooledConnection(await self._open(), is_reused=False)

    async def reopen(self, conn: PooledConnection) -> PooledConnection:
        await close_quietly(conn.smtp)
        return PooledConnection(await self._open(), is_reused=False)

    async def checkin(self, conn: PooledConnection) -> None:
        """Keep ``conn`` for the next send unless it is worn out or broken."""
        conn.messages += 1
        if not conn.smtp.is_connected or conn.messages >= MESSAGES_PER_CONNECTION:
            await close_quietly(conn.smtp)
            return
        conn.idle_since = asyncio.get_running_loop().time()
        self._idle.append(conn)

    async def discard(self, conn: PooledConnection) -> None:
        await close_quietly(conn.smtp)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await close_quietly(conn.smtp)


async def close_quietly(smtp: aiosmtplib.SMTP) -> None:
    """QUIT politely when possible; a dead connection is simply dropped."""
    if smtp.is_connected:
        try:
            await smtp.quit(timeout=2)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            smtp.close()
    else:
        smtp.close()


class TokenBucket:
    """At most ``rate`` acquisitions per second, with a burst of one second's worth.

    Waiters queue on a lock, so they are served in arrival order.
    """

    def __init__(self, rate_per_second: float) -> None:
        self._rate = rate_per_second
        self._capacity = max(1.0, rate_per_second)
        self._tokens = self._capacity
        self._updated: float | None = None
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self._rate)
                self._refill()
            self._tokens -= 1

    def _refill(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._updated is not None:
            elapsed = now - self._updated
            self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._updated = now
