"""``herald demo``: run a whole campaign on the embedded default, end to end."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from herald.channels.sandbox.process import ProcessSandbox
from herald.cli.server import running_herald
from herald.clock import CompressedClock
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import build_catalog
from herald.services.campaigns import CampaignServices
from herald.services.campaigns import Progress as CampaignProgress
from herald.services.container import Herald
from herald.services.demo import DAY_SECONDS, demo_scenario, set_up_demo
from herald.settings import Settings

app = typer.Typer(
    help="Run a demo campaign against the provider sandbox.", invoke_without_command=True
)
POLL_SECONDS = 0.25


@app.callback()
def demo(
    contacts: Annotated[int, typer.Option(min=1, max=100_000, help="Contacts to generate.")] = 300,
    seconds_per_day: Annotated[
        float, typer.Option(min=0.05, help="Real seconds one simulated day takes.")
    ] = 2.0,
    seed: Annotated[int, typer.Option(help="Seed of the audience and the sandbox.")] = 7,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the SQLite database here (default: a new temp dir).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 300,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Appointment reminders to generated contacts: WhatsApp, SMS fallback, voice
    fallback, follow-up after 2 days; live progress, then a report."""
    directory = data_dir or Path(tempfile.mkdtemp(prefix="herald-demo-"))
    speedup = DAY_SECONDS / seconds_per_day
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'herald.db'}")
    herald = Herald.create(settings, CompressedClock(speedup))
    console = Console(stderr=as_json)
    try:
        report = asyncio.run(_run(herald, contacts, speedup, seed, timeout, console))
    finally:
        herald.close()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_report(console, report, directory)
    if report["status"] != "sent":
        raise typer.Exit(1)


async def _run(
    herald: Herald, contacts: int, speedup: float, seed: int, give_up_after: float, console: Console
) -> dict[str, Any]:
    async with running_herald(herald, host="127.0.0.1", port=0) as running:
        scenario = demo_scenario(running.url, speedup=speedup, seed=seed)
        with ProcessSandbox(scenario) as sandbox:
            console.print(f"Herald on {running.url}, provider sandbox on {sandbox.base_url}")
            started = time.monotonic()
            setup = await asyncio.to_thread(
                set_up_demo,
                herald,
                sandbox_url=sandbox.base_url,
                herald_url=running.url,
                contacts=contacts,
                seed=seed,
            )
            progress = await _watch(
                herald, setup.campaign_id, setup.contacts, give_up_after, console
            )
            summary = await asyncio.to_thread(sandbox.summary)
        return _report(progress, time.monotonic() - started, summary)


async def _watch(
    herald: Herald, campaign_id: int, contacts: int, give_up_after: float, console: Console
) -> CampaignProgress:
    campaigns = CampaignServices(herald.clock)

    def read() -> CampaignProgress:
        with herald.sessions() as session:
            return campaigns.progress(session, campaign_id)

    deadline = time.monotonic() + give_up_after
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bars:
        overall = bars.add_task("contacts done", total=contacts)
        per_outcome: dict[str, Any] = {}
        while True:
            progress = await asyncio.to_thread(read)
            bars.update(overall, completed=progress.completed)
            for outcome, count in progress.outcomes.items():
                if outcome not in per_outcome:
                    per_outcome[outcome] = bars.add_task(f"  {outcome}", total=contacts)
                bars.update(per_outcome[outcome], completed=count)
            if progress.campaign.status.value in ("sent", "cancelled"):
                return progress
            if time.monotonic() > deadline:
                console.print(f"[red]gave up after {give_up_after:.0f} s[/red]")
                return progress
            await asyncio.sleep(POLL_SECONDS)


def _report(
    progress: CampaignProgress, seconds: float, sandbox: dict[str, object]
) -> dict[str, Any]:
    return {
        "status": progress.campaign.status.value,
        "campaign_id": int(progress.campaign.id),
        "contacts": progress.campaign.contact_count,
        "outcomes": progress.outcomes,
        "messages_by_channel": progress.messages_by_channel,
        "error_codes": progress.error_codes,
        "replies": progress.counters.get("replies", 0),
        "seconds": round(seconds, 1),
        "sandbox": sandbox,
    }


def _print_report(console: Console, report: dict[str, Any], directory: Path) -> None:
    catalog = build_catalog()
    console.print(
        f"\nCampaign [bold]{report['status']}[/bold]: {report['contacts']} contacts "
        f"in {report['seconds']} s; database in {directory}"
    )
    for title, rows in (
        ("outcome", report["outcomes"]),
        ("channel", report["messages_by_channel"]),
    ):
        table = Table(title=None)
        table.add_column(title)
        table.add_column("count", justify="right")
        for name, count in rows.items():
            table.add_row(name, str(count))
        console.print(table)
    errors = Table()
    for column in ("provider", "code", "count", "meaning"):
        errors.add_column(column)
    for key, count in report["error_codes"].items():
        provider, _, code = key.partition(":")
        entry = catalog.describe(IntegrationKind(provider), code)
        errors.add_row(provider, code, str(count), entry.title)
    console.print(errors)
    duplicates = report["sandbox"].get("duplicate_keys")
    console.print(
        f"Sandbox: {report['sandbox'].get('accepted')} sends accepted, "
        f"{duplicates} contacts received a step twice."
    )
