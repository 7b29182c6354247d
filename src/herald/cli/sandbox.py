"""``herald sandbox``: run the provider emulator on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from herald.channels.sandbox.scenario import Scenario, load_scenario
from herald.channels.sandbox.server import SandboxServer

app = typer.Typer(help="Run the provider sandbox.", invoke_without_command=True)


@app.callback()
def sandbox(
    port: Annotated[int, typer.Option(help="HTTP port for the provider APIs.")] = 8025,
    smtp_port: Annotated[int, typer.Option(help="Port of the SMTP server.")] = 8026,
    scenario_file: Annotated[
        Path | None, typer.Option("--scenario", help="YAML scenario file.")
    ] = None,
    webhook_base_url: Annotated[
        str | None,
        typer.Option(help="Herald's base URL that receives webhooks, e.g. http://127.0.0.1:8000"),
    ] = None,
    time_compression: Annotated[
        float | None,
        typer.Option(help="Divide every delay by this (86400 makes a day last a second)."),
    ] = None,
    log_file: Annotated[
        Path | None, typer.Option(help="Append every accepted send as JSON lines.")
    ] = None,
) -> None:
    """Emulate WhatsApp, Infobip, Twilio and SMTP on 127.0.0.1 until interrupted."""
    scenario = load_scenario(scenario_file) if scenario_file else Scenario()
    overrides: dict[str, object] = {}
    if webhook_base_url is not None:
        overrides["webhook_base_url"] = webhook_base_url
    if time_compression is not None:
        overrides["time_compression"] = time_compression
    scenario = scenario.model_copy(update=overrides)
    try:
        asyncio.run(_serve(scenario, {"http": port, "smtp": smtp_port}, log_file))
    except KeyboardInterrupt:
        typer.echo("sandbox stopped")


async def _serve(scenario: Scenario, ports: dict[str, int], log_file: Path | None) -> None:
    async with SandboxServer(scenario, ports=ports, log_path=log_file) as server:
        typer.echo(f"sandbox HTTP API on {server.base_url}")
        for name, port in server.ports.items():
            if name != "http":
                typer.echo(f"sandbox {name} on 127.0.0.1:{port}")
        typer.echo(f"webhooks go to {scenario.webhook_base_url or '(nowhere: no base URL set)'}")
        await asyncio.Event().wait()
