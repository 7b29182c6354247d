"""Running the web app and the workers in one event loop, and stopping them gently.

Stopping is graceful and ordered: on the first SIGTERM or SIGINT the
workers claim nothing new and finish the sends they started (every intent
gets its provider's answer recorded, so none is left "outcome unknown");
the web server keeps taking webhooks meanwhile, then stops. A second signal
stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import uvicorn

from herald.channels.http import create_client_session
from herald.engine.worker import WorkerRunner
from herald.services.container import Herald
from herald.services.runtime import build_runner
from herald.web.app import create_app

logger = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: Herald decides the shutdown order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Running:
    url: str
    runner: WorkerRunner | None
    serving: asyncio.Task[None]


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
    # log_config=None: Herald's logging setup (text or JSON) stays in charge.
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", access_log=False, log_config=None
    )
    server = _Server(config)
    async with create_client_session() as http:
        runner = build_runner(herald, http, lease=lease) if workers else None
        if runner is not None:
            app.state.on_events_recorded = lambda: runner.wake("router")
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        working = asyncio.create_task(runner.run()) if runner is not None else None
        # uvicorn exposes only a flag for "listening"; poll it briefly.
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        try:
            yield Running(f"http://{host}:{bound_port}", runner, serving)
        finally:
            # Workers first, so webhooks about their last sends are still taken.
            if runner is not None and working is not None:
                runner.stop()
                await asyncio.gather(working, return_exceptions=True)
            server.should_exit = True
            await asyncio.gather(serving, return_exceptions=True)
            sock.close()


def on_stop_signals(first: Callable[[], object], second: Callable[[], object]) -> None:
    """Call ``first`` on the first SIGTERM/SIGINT and ``second`` on any later one."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def handle(signum: int) -> None:
        received.append(signum)
        if len(received) == 1:
            logger.info(
                "%s received: finishing in-flight sends, claiming nothing new "
                "(send it again to stop at once)",
                signal.Signals(signum).name,
            )
            first()
        else:
            logger.warning("%s received again: stopping at once", signal.Signals(signum).name)
            second()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, handle, signum)


async def serve_forever(herald: Herald, *, host: str, port: int, workers: bool) -> None:
    """Serve until a stop signal (or the web server ends); then stop gracefully."""
    stop = asyncio.Event()
    current = asyncio.current_task()
    assert current is not None
    on_stop_signals(stop.set, current.cancel)
    async with running_herald(herald, host=host, port=port, workers=workers) as running:
        print(f"Herald on {running.url} ({'with' if workers else 'without'} workers)", flush=True)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([stopping, running.serving], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()


async def work_forever(herald: Herald) -> None:
    """Run the workers until a stop signal; the first lets in-flight sends finish."""
    async with create_client_session() as http:
        runner = build_runner(herald, http)
        working = asyncio.create_task(runner.run())
        on_stop_signals(runner.stop, working.cancel)
        logger.info("worker %s started", runner.worker_id, extra={"worker_id": runner.worker_id})
        with contextlib.suppress(asyncio.CancelledError):
            await working
        logger.info("worker %s stopped", runner.worker_id, extra={"worker_id": runner.worker_id})
