"""``herald serve`` and ``herald worker``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Annotated

import typer

from herald.cli.server import serve_forever, work_forever
from herald.services.container import Herald
from herald.settings import load_settings

serve_app = typer.Typer(
    help="Run Herald's web app, webhooks and workers.", invoke_without_command=True
)
worker_app = typer.Typer(
    help="Run extra workers against a shared database.", invoke_without_command=True
)


@serve_app.callback()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[bool, typer.Option(help="Run the workers in this process too.")] = True,
) -> None:
    """Serve the UI, the API and the provider webhooks; run the workers (embedded default)."""
    herald = Herald.create(load_settings())
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_forever(herald, host=host, port=port, workers=workers))
    finally:
        herald.close()


@worker_app.callback()
def worker() -> None:
    """Claim and process due journeys until SIGTERM; finishes in-flight sends first."""
    herald = Herald.create(load_settings())

    async def main() -> None:
        task = asyncio.create_task(work_forever(herald))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
    finally:
        herald.close()
