"""The journey engine end to end: contacts through primary, fallback and follow-up.

Each run is a real deployment on loopback: the provider sandbox in its own
process (WhatsApp fails 20% of messages after acceptance, so those contacts
get the SMS fallback; every delivered contact gets an SMS follow-up a
simulated day later), Herald as OS processes — on SQLite one ``herald serve``
that receives webhooks and runs the workers, on PostgreSQL a web receiver
and 1 or 2 ``herald worker`` processes — and this process launching the
campaign and reading the results from the database and the sandbox's log.

Reported per run:

- messages/s: sends the sandbox accepted, over the time from launch to the
  last of them (the simulated day before the last follow-ups is 3 s of it);
- transitions/s: timeline entries written (each is one event applied to a
  journey: launched, accepted, failed, delivered, completed...) over the time
  from launch to the campaign being Sent;
- due→sent p50/p99 of follow-ups (from the moment their timer is due to the
  provider's answer), and launch→sent of primaries (a launch makes every
  contact due at once, so this is the length of the queue);
- peak memory: the largest resident size of any Herald process, and their sum;
- CPU per message: CPU time of all Herald processes (and of the sandbox)
  divided by the messages sent; the rate a core allows follows from it;
- the ceiling: Herald's WhatsApp client alone (same aiohttp transport, same
  payload, 200 in flight) against a sandbox with the same latency, measured
  just before the run; Herald's rate is reported as a share of it.

Reproduce::

    .venv/bin/python -m bench.engine --contacts 100000 --write
    .venv/bin/python -m bench.engine --contacts 1000000 --backends postgresql --workers 2

``HERALD_BENCH_DATABASE_URL`` names the PostgreSQL server (a database is
created and dropped per run); ``--write`` replaces the engine section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from tests.support.cluster import Cluster, ClusterConfig, cpu_seconds

from bench.channel_throughput import measure_whatsapp, sandbox_process
from herald.channels.sandbox.scenario import ChannelScenario, Scenario
from herald.services.audiences import import_audience
from herald.services.campaigns import CampaignServices
from herald.services.demo import demo_csv, integration_settings
from herald.store.campaigns import CampaignRow
from herald.store.journeys import JOURNEY_LOG, JOURNEYS, MESSAGES

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
START, END = "<!-- bench:engine:start -->", "<!-- bench:engine:end -->"
DAY_SECONDS = 86_400
SPEEDUP = DAY_SECONDS / 3  # a simulated day in 3 real seconds
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Run:
    backend: str
    workers: int
    latency_ms: int
    contacts: int
    messages: int
    seconds_to_last_send: float
    seconds_to_sent: float
    transitions: int
    primary: tuple[float, float]
    follow_up: tuple[float, float]
    peak_rss: int
    total_rss: int
    herald_cpu: float
    sandbox_cpu: float
    ceiling: float
    load: float
    status: str

    @property
    def rate(self) -> float:
        return self.messages / self.seconds_to_last_send if self.seconds_to_last_send else 0.0

    @property
    def transition_rate(self) -> float:
        return self.transitions / self.seconds_to_sent if self.seconds_to_sent else 0.0


def scenario(latency_ms: int) -> Scenario:
    whatsapp = ChannelScenario(
        latency_ms=latency_ms,
        fail_rate=0.2,
        fail_codes=["131049"],
        delivery_delay_seconds=0,
        read_rate=0,
    )
    sms = ChannelScenario(latency_ms=latency_ms, delivery_delay_seconds=0, read_rate=0)
    return Scenario(seed=5, whatsapp=whatsapp, sms=sms)


def journey() -> dict[str, Any]:
    week = 7 * 24 * 60  # windows outlast any webhook backlog: no fallback by expiry
    return {
        "primary": {
            "integration": {"name": "demo-whatsapp", "kind": "whatsapp"},
            "content": {
                "type": "whatsapp_template",
                "name": "appointment_reminder",
                "language": "en",
                "body": [{"column": "name"}, {"column": "appointment_date"}],
            },
            "delivery_window_minutes": week,
        },
        "fallbacks": [
            {
                "integration": {"name": "demo-sms", "kind": "infobip_sms"},
                "content": {"type": "sms", "text": "Hi {{name}}, see you {{appointment_date}}."},
                "delivery_window_minutes": week,
            }
        ],
        "follow_up": {
            "delay_days": 1,
            "integration": {"name": "demo-sms", "kind": "infobip_sms"},
            "content": {"type": "sms", "text": "Still coming, {{name}}?"},
        },
    }


@contextmanager
def database(backend: str, directory: Path) -> Iterator[str]:
    """A new, empty database for one run; PostgreSQL's is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'herald.db'}"
        return
    server = os.environ.get("HERALD_BENCH_DATABASE_URL", DEFAULT_SERVER)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"herald_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure_ceiling(latency_ms: int) -> float:
    """Herald's WhatsApp client alone against a sandbox of the same latency, sends/s."""
    with sandbox_process(latency_ms) as base_url:
        client, _raw = asyncio.run(measure_whatsapp(base_url, 200, seconds=2.0, rounds=3))
    return client.per_second


def prepare(cluster: Cluster, contacts: int) -> int:
    """Integrations without a rate limit of their own, the audience, a draft; its id."""
    herald = cluster.herald
    with herald.sessions() as session:
        for name, (kind, settings) in integration_settings(
            cluster.sandbox.base_url, cluster.web_url
        ).items():
            unlimited = settings | {"rate_limit_per_second": 1_000_000}
            herald.integrations.create(session, name=name, kind=kind, settings=unlimited)
    imported = import_audience(
        herald.engine,
        io.BytesIO(demo_csv(contacts, seed=9).encode()),
        name="bench",
        filename="bench.csv",
        clock=herald.clock,
        default_region="US",
        workers=0,
    )
    with herald.sessions() as session:
        draft = CampaignServices(herald.clock).create_draft(
            session, name="Bench", audience_id=int(imported.audience.id), journey=journey()
        )
    return int(draft.id)


def run_once(backend: str, workers: int, latency_ms: int, contacts: int, timeout: float) -> Run:
    ceiling = measure_ceiling(latency_ms)
    with (
        tempfile.TemporaryDirectory(prefix="herald-bench-") as folder,
        database(backend, Path(folder)) as url,
    ):
        config = ClusterConfig(url, Path(folder) / "cluster", speedup=SPEEDUP, lease_seconds=120)
        embedded = backend == "sqlite"
        with Cluster(config, scenario(latency_ms), web_runs_workers=embedded) as cluster:
            campaign_id = prepare(cluster, contacts)
            for _ in range(0 if embedded else workers):
                cluster.start_worker()
            time.sleep(2)  # workers connected and idle
            load = os.getloadavg()[0]
            with cluster.herald.sessions() as session:
                CampaignServices(cluster.herald.clock).launch(session, campaign_id)
            launched = time.time()
            status = wait_until_sent(cluster, campaign_id, timeout)
            seconds_to_sent = time.time() - launched
            rss = [process.peak_rss_bytes() for process in cluster.processes]
            herald_cpu = sum(process.cpu_seconds() for process in cluster.processes)
            sandbox_cpu = cpu_seconds(cluster.sandbox.pid)
            return collect(
                cluster,
                campaign_id,
                Run(
                    backend=backend,
                    workers=workers,
                    latency_ms=latency_ms,
                    contacts=0,
                    messages=0,
                    seconds_to_last_send=0,
                    seconds_to_sent=seconds_to_sent,
                    transitions=0,
                    primary=(0, 0),
                    follow_up=(0, 0),
                    peak_rss=max(rss),
                    total_rss=sum(rss),
                    herald_cpu=herald_cpu,
                    sandbox_cpu=sandbox_cpu,
                    ceiling=ceiling,
                    load=load,
                    status=status,
                ),
                launched,
            )


def wait_until_sent(cluster: Cluster, campaign_id: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        with cluster.herald.sessions() as session:
            status = session.scalar(select(CampaignRow.status).where(CampaignRow.id == campaign_id))
        if status == "sent" or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.5)


def collect(cluster: Cluster, campaign_id: int, run: Run, launched: float) -> Run:
    sends = cluster.sandbox_sends()
    last_send = max(datetime.fromisoformat(s["accepted_at"]).timestamp() for s in sends)
    with cluster.herald.sessions() as session:
        contacts = session.scalar(select(func.count()).select_from(JOURNEYS)) or 0
        transitions = session.scalar(select(func.count()).select_from(JOURNEY_LOG)) or 0
        launched_at = session.scalar(
            select(CampaignRow.launched_at).where(CampaignRow.id == campaign_id)
        )
        sent = session.execute(
            select(MESSAGES.c.journey_id, MESSAGES.c.step, MESSAGES.c.sent_at).where(
                MESSAGES.c.sent_at.is_not(None)
            )
        ).all()
        delivered = dict(
            session.execute(
                select(JOURNEYS.c.id, JOURNEYS.c.last_delivered_at).where(
                    JOURNEYS.c.last_delivered_at.is_not(None)
                )
            ).all()
        )
    assert launched_at is not None
    waits: dict[int, list[float]] = {0: [], 2: []}
    for journey_id, step, sent_at in sent:
        if step == 0:
            waits[0].append((sent_at - launched_at).total_seconds() / SPEEDUP)
        elif step == 2 and journey_id in delivered:
            due = delivered[journey_id] + timedelta(days=1)
            waits[2].append((sent_at - due).total_seconds() / SPEEDUP)
    return replace(
        run,
        contacts=contacts,
        messages=len(sends),
        seconds_to_last_send=last_send - launched,
        transitions=transitions,
        primary=percentiles(waits[0]),
        follow_up=percentiles(waits[2]),
    )


def percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[98]


def describe(run: Run) -> str:
    who = "1 process (serve)" if run.backend == "sqlite" else f"{run.workers} worker(s) + web"

    def per_message(cpu_seconds: float) -> float:
        return cpu_seconds / max(run.messages, 1) * 1000

    def ms(pair: tuple[float, float]) -> str:
        return f"{pair[0] * 1000:,.0f} / {pair[1] * 1000:,.0f} ms"

    return (
        f"| {run.backend} | {who} | {run.latency_ms} ms | {run.contacts:,} | {run.messages:,} "
        f"| **{run.rate:,.0f}** | {run.ceiling:,.0f} | **{run.rate / run.ceiling:.0%}** "
        f"| {run.transition_rate:,.0f} | {ms(run.follow_up)} "
        f"| {run.primary[0]:,.0f} / {run.primary[1]:,.0f} s "
        f"| {run.peak_rss / 2**20:,.0f} / {run.total_rss / 2**20:,.0f} MB "
        f"| {per_message(run.herald_cpu):.1f} / {per_message(run.sandbox_cpu):.1f} ms "
        f"| {run.load:.1f} | {run.status} |"
    )


HEADER = (
    "| database | Herald processes | provider latency | contacts | messages | messages/s "
    "| ceiling/s | share of ceiling | transitions/s "
    "| follow-up due→sent p50 / p99 | primary launch→sent p50 / p99 "
    "| peak RSS largest / all | CPU per message: Herald / sandbox | load | campaign |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
    "| ---: | ---: | --- |"
)


def report(runs: list[Run], command: str) -> str:
    machine = (
        f"{os.cpu_count()} CPU cores ({platform.machine()}), Python {platform.python_version()}"
    )
    lines = [
        f"Measured {datetime.now().date()} on {machine}; command: `{command}`.",
        "",
        HEADER,
        *(describe(run) for run in runs),
    ]
    return "\n".join(lines)


def write_section(body: str, doc: Path = DOC) -> None:
    """Replace the text between the engine markers (append them if missing)."""
    text_ = doc.read_text(encoding="utf-8")
    if START in text_:
        before, rest = text_.split(START, 1)
        after = rest.split(END, 1)[1]
    else:
        before, after = text_.rstrip("\n") + "\n\n", "\n"
    doc.write_text(f"{before}{START}\n{body}\n{END}{after}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2", help="worker processes on PostgreSQL")
    parser.add_argument("--latencies", default="0,100", help="provider latencies in ms")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    runs = []
    for latency in (int(x) for x in args.latencies.split(",")):
        for backend in args.backends.split(","):
            for workers in [1] if backend == "sqlite" else map(int, args.workers.split(",")):
                run = run_once(backend, workers, latency, args.contacts, args.timeout)
                print(describe(run), flush=True)
                runs.append(run)
    command = "python -m bench.engine " + " ".join(
        f"--{name} {value}"
        for name, value in vars(args).items()
        if name not in ("write", "timeout")
    )
    body = report(runs, command)
    print(body)
    if args.write:
        write_section(body)


if __name__ == "__main__":
    main()
