"""A fault-injecting HTTP proxy between Herald and the provider sandbox.

Herald's integration points at the proxy instead of the sandbox; the test
switches the proxy's mode while a campaign runs:

* ``PASS``: forward every request and its answer untouched;
* ``HTTP_503``: answer 503 without forwarding (the provider is failing);
* ``HTTP_429``: answer 429 with WhatsApp's throughput error (too fast);
* ``TIMEOUT``: forward the request, so the provider *does* accept the
  message, then hold the answer past Herald's timeout — the answer is lost,
  the exactly-once case that must not lead to a second send;
* ``SLOW``: forward, then hold the answer ``hold_seconds`` (below Herald's
  timeout): the provider's webhooks about the message reach Herald before
  the answer to the send does;
* ``DOWN``: stop listening, so connections are refused (the provider is
  unreachable), and listen again on the same port when the mode changes.

The same proxy, pointed the other way (sandbox → Herald), multiplies and
reorders webhooks: see :class:`WebhookStorm`.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Coroutine
from enum import StrEnum
from typing import Any

import aiohttp
from aiohttp import web

from herald.channels.sandbox.process import free_port

HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
RATE_LIMIT_BODY = (
    b'{"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException",'
    b' "code": 130429, "fbtrace_id": "AbCdEf"}}'
)


class Mode(StrEnum):
    PASS = "pass"
    HTTP_503 = "http_503"
    HTTP_429 = "http_429"
    TIMEOUT = "timeout"
    SLOW = "slow"
    DOWN = "down"


class _LoopThread:
    """An event loop in a daemon thread, for servers that outlive the test's calls."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class FaultProxy:
    """``with FaultProxy(target_url, hold_seconds=...) as proxy:`` then ``proxy.mode = ...``."""

    def __init__(self, target_url: str, *, hold_seconds: float = 5.0) -> None:
        self.target_url = target_url.rstrip("/")
        self.hold_seconds = hold_seconds
        self.port = free_port()
        self.counts: Counter[str] = Counter()  # requests seen per mode
        self._mode = Mode.PASS
        self._threads = _LoopThread()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        was_down, self._mode = self._mode is Mode.DOWN, mode
        if mode is Mode.DOWN and not was_down:
            self._threads.call(self._stop_listening())
        elif was_down and mode is not Mode.DOWN:
            self._threads.call(self._listen())

    def __enter__(self) -> FaultProxy:
        self._threads.call(self._start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._threads.call(self._cleanup())
        finally:
            self._threads.close()

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await self._listen()

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()

    async def _stop_listening(self) -> None:
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def _cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        mode = self._mode
        self.counts[mode.value] += 1
        if mode is Mode.HTTP_503:
            return web.Response(status=503, text="Service Unavailable")
        if mode is Mode.HTTP_429:
            return web.Response(status=429, body=RATE_LIMIT_BODY, content_type="application/json")
        answer = await self._forward(request)
        if mode in (Mode.TIMEOUT, Mode.SLOW):
            await asyncio.sleep(self.hold_seconds)
        return answer

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with self._session.request(
            request.method,
            self.target_url + request.rel_url.path_qs,
            headers=headers,
            data=await request.read(),
        ) as upstream:
            body = await upstream.read()
            kept = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
            return web.Response(status=upstream.status, body=body, headers=kept)


class WebhookStorm:
    """Between the sandbox and Herald: every webhook delivered ``copies`` times,
    shuffled, each copy after a random delay of up to ``spread_seconds``.

    The sandbox gets its answer at once (as from Herald); the copies reach
    Herald later and out of order, so a "delivered" can overtake its "sent",
    and a status can arrive before Herald has recorded the send's answer.
    """

    def __init__(self, herald_url: str, *, copies: int = 3, spread_seconds: float = 1.0) -> None:
        self.herald_url = herald_url.rstrip("/")
        self.copies = copies
        self.spread_seconds = spread_seconds
        self.port = free_port()
        self.received = 0
        self.delivered: Counter[int] = Counter()  # Herald's answers by status
        self._random = random.Random(3)
        self._threads = _LoopThread()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> WebhookStorm:
        self._threads.call(self._start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._threads.call(self._cleanup())
        finally:
            self._threads.close()

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until every copy has been delivered."""
        self._threads.call(self._drain(timeout))

    async def _drain(self, within_seconds: float) -> None:
        deadline = asyncio.get_running_loop().time() + within_seconds
        while self._pending and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _cleanup(self) -> None:
        for task in list(self._pending):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.Response:
        self.received += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        body = await request.read()
        url = self.herald_url + request.rel_url.path_qs
        for _ in range(self.copies):
            delay = self._random.uniform(0, self.spread_seconds)
            task = asyncio.create_task(self._deliver(request.method, url, headers, body, delay))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        # Twilio's gather callback expects TwiML; the others only a 2xx.
        return web.Response(status=200, text="<Response/>", content_type="text/xml")

    async def _deliver(
        self, method: str, url: str, headers: dict[str, str], body: bytes, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        assert self._session is not None
        for _attempt in range(5):
            try:
                async with self._session.request(method, url, headers=headers, data=body) as answer:
                    await answer.read()
                    self.delivered[answer.status] += 1
                    if answer.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
