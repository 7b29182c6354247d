"""An aiohttp app on 127.0.0.1 in a background thread, for synchronous tests.

The engine harness runs each worker round in its own event loop, so fake
remote services (an OpenAI-compatible endpoint, a user's bot) live in a loop
of their own that outlasts those rounds.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

from aiohttp import web


class LoopbackApp:
    """``with LoopbackApp(app) as base_url:`` serves ``app`` until the block ends."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.base_url = ""

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _start(self) -> str:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> str:
        self._thread.start()
        self.base_url = self._call(self._start())
        return self.base_url

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._call(self._runner.cleanup())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
