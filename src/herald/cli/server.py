"""Running the web app and the workers in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import uvicorn

from herald.channels.http import create_client_session
from herald.engine.worker import WorkerRunner
from herald.services.container import Herald
from herald.services.runtime import build_runner, worker_lease
from herald.web.app import create_app


@dataclass
class Running:
    url: str
    runner: WorkerRunner | None


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


@contextlib.asynccontextmanager
async def running_herald(
    herald: Herald,
    *,
    host: str,
    port: int,
    workers: bool = True,
    lease: timedelta | None = None,
) -> AsyncIterator[Running]:
    """Serve the app (and run the workers) until the block exits.

    ``lease`` defaults to the settings' real-time lease (``worker_lease``).

    Webhooks recorded by the app wake the event router at once instead of at
    its next poll.
    """
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    app = create_app(herald)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    async with create_client_session() as http:
        lease = lease or worker_lease(herald.settings)
        runner = build_runner(herald, http, lease=lease) if workers else None
        if runner is not None:
            app.state.on_events_recorded = lambda: runner.wake("router")
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        working = asyncio.create_task(runner.run()) if runner is not None else None
        # uvicorn exposes only a flag for "listening"; poll it briefly.
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        try:
            yield Running(f"http://{host}:{bound_port}", runner)
        finally:
            if runner is not None:
                runner.stop()
            server.should_exit = True
            await asyncio.gather(serving, *([working] if working else []), return_exceptions=True)
            sock.close()


async def serve_forever(herald: Herald, *, host: str, port: int, workers: bool) -> None:
    async with running_herald(herald, host=host, port=port, workers=workers) as running:
        print(f"Herald on {running.url} ({'with' if workers else 'without'} workers)")
        await asyncio.Event().wait()


async def work_forever(herald: Herald) -> None:
    async with create_client_session() as http:
        runner = build_runner(herald, http, lease=worker_lease(herald.settings))
        await runner.run()
