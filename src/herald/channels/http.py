"""The HTTP transport every provider client shares.

One :class:`aiohttp.ClientSession` per process (injected, so tests and the
engine decide its lifetime) with keep-alive connection reuse, a bound on the
requests in flight, and timeouts. Transport failures are split by what they
mean for exactly-once delivery::

    TransportError
    ├── RequestNotSentError  the provider cannot have seen the request
    │                      (connection refused, connect timeout): safe to retry
    └── OutcomeUnknownError     the request may have been processed (read timeout,
                           connection dropped before the answer): never resend

A pooled keep-alive connection that the server closed while idle fails the
moment it is reused, before the server read anything; that one case is
retried at once on a fresh connection.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

DEFAULT_TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 5.0
# Below the idle timeout of common servers and load balancers (60 s), so a
# pooled connection is rarely closed under us in the first place.
KEEPALIVE_SECONDS = 15.0


class TransportError(Exception):
    pass


class RequestNotSentError(TransportError):
    pass


class OutcomeUnknownError(TransportError):
    pass


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


def create_client_session(max_connections: int = 0) -> aiohttp.ClientSession:
    """A session tuned for many concurrent provider calls from one process.

    By default the pool sets no limit of its own: each provider client bounds
    its requests in flight (``ProviderHttp.max_in_flight``). A shared limit
    below their sum queues requests inside aiohttp, where the wait counts
    against the connect timeout, so a merely busy process would see
    "cannot connect" and retry sends that only waited their turn.
    """
    connector = aiohttp.TCPConnector(
        limit=max_connections, keepalive_timeout=KEEPALIVE_SECONDS, ttl_dns_cache=300
    )
    return aiohttp.ClientSession(connector=connector, raise_for_status=False)


class ProviderHttp:
    """Requests to one provider account through a shared session.

    ``max_in_flight`` bounds concurrent requests from this client so one slow
    provider cannot hold every connection of the shared pool.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        max_in_flight: int = 200,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._session = session
        self._slots = asyncio.Semaphore(max_in_flight)
        self._timeout = aiohttp.ClientTimeout(
            total=timeout_seconds, connect=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds)
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
    ) -> HttpAnswer:
        async with self._slots:
            try:
                return await self._once(method, url, headers, json, data)
            except aiohttp.ServerDisconnectedError:
                # The stale keep-alive case: retry once on a new connection.
                pass
            try:
                return await self._once(method, url, headers, json, data)
            except aiohttp.ServerDisconnectedError as exc:
                raise OutcomeUnknownError(f"{url}: connection closed before the answer") from exc

    async def _once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        json: Any,
        data: Any,
    ) -> HttpAnswer:
        try:
            async with self._session.request(
                method, url, headers=headers, json=json, data=data, timeout=self._timeout
            ) as response:
                body = await response.read()
                return HttpAnswer(response.status, dict(response.headers), body)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise RequestNotSentError(f"{url}: cannot connect: {exc}") from exc
        except TimeoutError as exc:
            raise OutcomeUnknownError(f"{url}: no answer within {self._timeout.total} s") from exc
        except aiohttp.ServerDisconnectedError:
            raise
        except aiohttp.ClientError as exc:
            raise OutcomeUnknownError(f"{url}: {exc}") from exc
