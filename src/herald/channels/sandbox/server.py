"""Running the sandbox: in an event loop (async tests, the CLI) or in a thread.

The HTTP API for every provider is one aiohttp server; servers that speak
other protocols (SMTP) register as auxiliary servers and get their own port.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Protocol

import aiohttp
from aiohttp import web

from herald.channels.sandbox.app import create_sandbox_app
from herald.channels.sandbox.context import SandboxContext
from herald.channels.sandbox.log import SandboxLog
from herald.channels.sandbox.scenario import Scenario
from herald.channels.sandbox.smtp import create_smtp_server
from herald.channels.sandbox.webhooks import WebhookSender

LOOPBACK = "127.0.0.1"
# Several worker processes open hundreds of connections at once; with the
# default backlog (128) the surplus connects wait for a SYN retransmit (1 s+).
LISTEN_BACKLOG = 2048


class AuxiliaryServer(Protocol):
    name: str

    async def start(self, host: str, port: int) -> int:
        """Start listening (port 0: any free port) and return the port."""
        ...

    async def stop(self) -> None: ...


AuxiliaryFactory = Callable[[SandboxContext], AuxiliaryServer]

# Protocol servers beside the HTTP API (e.g. SMTP), keyed by name.
AUXILIARY_SERVERS: list[AuxiliaryFactory] = [create_smtp_server]


class SandboxServer:
    """The sandbox on loopback; ``async with SandboxServer(scenario) as sandbox:``.

    ``ports`` asks for fixed ports by server name (``"http"``, ``"smtp"``);
    missing names get a free port. After start, ``sandbox.ports`` holds the
    real ones and ``sandbox.base_url`` the HTTP API's base URL.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        ports: dict[str, int] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.scenario = scenario or Scenario()
        self.log = SandboxLog(log_path)
        self.ports: dict[str, int] = dict(ports or {})
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._auxiliary: list[AuxiliaryServer] = []
        self.context: SandboxContext | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['http']}"

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        webhooks = WebhookSender(self._session, self.log)
        self.context = SandboxContext.create(self.scenario, self.log, webhooks)
        self._runner = web.AppRunner(create_sandbox_app(self.context), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, LOOPBACK, self.ports.get("http", 0), backlog=LISTEN_BACKLOG
        )
        await site.start()
        self.ports["http"] = _bound_port(site)
        for factory in AUXILIARY_SERVERS:
            server = factory(self.context)
            self.ports[server.name] = await server.start(LOOPBACK, self.ports.get(server.name, 0))
            self._auxiliary.append(server)

    async def drain(self, timeout_seconds: float = 10.0) -> None:
        """Wait for the webhooks still scheduled to go out."""
        if self.context is not None:
            await self.context.webhooks.drain(timeout_seconds)

    async def stop(self) -> None:
        for server in reversed(self._auxiliary):
            await server.stop()
        self._auxiliary.clear()
        if self.context is not None:
            await self.context.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> SandboxServer:
        try:
            await self.start()
        except BaseException:
            await self.stop()  # a half-started sandbox must not leak its session or ports
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _bound_port(site: web.TCPSite) -> int:
    server = site._server  # aiohttp exposes the bound socket only here
    assert isinstance(server, asyncio.base_events.Server)
    port = server.sockets[0].getsockname()[1]
    assert isinstance(port, int)
    return port


class ThreadedSandbox:
    """The sandbox in a background thread with its own event loop.

    For synchronous callers: tests that drive Herald's sync services, and
    commands that run Herald and the sandbox in one process.
    """

    def __init__(self, scenario: Scenario | None = None, **kwargs: object) -> None:
        self.server = SandboxServer(scenario, **kwargs)  # type: ignore[arg-type]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def _call(self, coroutine_factory: Callable[[], object]) -> None:
        future: Future[object] = asyncio.run_coroutine_threadsafe(
            coroutine_factory(),  # type: ignore[arg-type]
            self._loop,
        )
        future.result(timeout=30)

    def __enter__(self) -> SandboxServer:
        self._thread.start()
        self._call(self.server.start)
        return self.server

    def drain(self, timeout_seconds: float = 10.0) -> None:
        self._call(lambda: self.server.drain(timeout_seconds))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._call(self.server.stop)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
