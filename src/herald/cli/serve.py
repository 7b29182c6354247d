"""``herald serve`` and ``herald worker``."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from herald.cli.server import serve_forever, work_forever
from herald.observability.logs import configure_logging
from herald.services.container import Herald
from herald.settings import Settings, load_settings

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
    """Serve the UI, the API and the provider webhooks; run the workers (embedded default).

    SIGTERM or Ctrl-C stops gracefully: in-flight sends finish, nothing new is
    claimed; a second signal stops at once."""
    herald = Herald.create(_configured())
    try:
        with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
            asyncio.run(serve_forever(herald, host=host, port=port, workers=workers))
    finally:
        herald.close()


@worker_app.callback()
def worker() -> None:
    """Claim and process due journeys until SIGTERM; finishes in-flight sends first.

    A second SIGTERM or Ctrl-C stops at once (an interrupted send is then
    recorded as "outcome unknown" by the next worker, never sent again)."""
    herald = Herald.create(_configured())
    try:
        asyncio.run(work_forever(herald))
    finally:
        herald.close()


def _configured() -> Settings:
    """The settings, with logging set up as they ask before anything logs."""
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    return settings
