"""Several ``herald worker`` processes on PostgreSQL, and the faults of a real cluster.

* Repeated SIGKILL: workers are killed at random moments (mid-claim,
  mid-send, mid-write) and restarted, again and again, while a campaign with
  fallbacks runs. A killed worker's claimed journeys wait for its lease to
  expire; its unanswered sends are recorded as "outcome unknown" and never
  sent again.
* Database restart: every connection to the database is terminated
  (``pg_terminate_backend``), twice, while the campaign runs. Restarting the
  shared PostgreSQL server of this machine is not safe for the other users
  of the server, so the suite cuts every connection instead, which is what
  a restart does to Herald; workers and the web server must reconnect by
  themselves and carry on.

Herald's clock runs 60 times faster in every process and workers hold their
leases 5 real seconds; the web server runs in this process and receives the
sandbox's webhooks.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from herald.channels.sandbox.process import ProcessSandbox
from herald.channels.sandbox.scenario import ChannelScenario, Scenario
from herald.cli.server import running_herald
from herald.clock import CompressedClock
from herald.services.container import Herald
from herald.settings import Settings
from tests.reliability.conftest import Report, Scale
from tests.reliability.stack import (
    Invariants,
    WorkerProcess,
    add_integrations,
    campaign_status,
    draft_campaign,
    invariants,
    launch,
    log_kinds,
    whatsapp_then_sms,
)

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.slow]
SPEEDUP = 60.0
LEASE_SECONDS = 5


class Cluster:
    """Worker processes sharing one database, each restartable by index."""

    def __init__(self, database_url: str, data_dir: Path, size: int, epoch: datetime) -> None:
        self._database_url = database_url
        self._data_dir = data_dir
        self._env = {
            "HERALD_CLOCK_SPEEDUP": str(SPEEDUP),
            "HERALD_CLOCK_EPOCH": epoch.isoformat(),
            # A killed worker's journeys are taken over after this many real seconds.
            "HERALD_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        self._started = 0
        self.workers = [self._start() for _ in range(size)]

    def _start(self) -> WorkerProcess:
        self._started += 1
        log = self._data_dir / f"worker-{self._started}.log"
        return WorkerProcess(self._database_url, self._data_dir, log, **self._env)

    def kill_and_restart(self, index: int) -> None:
        self.workers[index].signal(signal.SIGKILL)
        self.workers[index].wait(timeout=30)
        self.workers[index] = self._start()

    def stop(self) -> None:
        for worker in self.workers:
            worker.signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(timeout=60)
            finally:
                worker.stop()


def _contacts(scale: Scale) -> int:
    return 50_000 if scale.is_full else 300


@pytest.mark.parametrize("fault", ["repeated_sigkill", "database_restart"])
def test_cluster_fault_keeps_one_outcome_per_contact(
    pg_url: str, tmp_path: Path, scale: Scale, report: Report, fault: str
) -> None:
    epoch = datetime.now(UTC)
    herald = Herald.create(
        Settings(database_url=pg_url, data_dir=tmp_path), CompressedClock(SPEEDUP, epoch=epoch)
    )
    try:
        result, figures = asyncio.run(_run(herald, pg_url, tmp_path, scale, epoch, fault))
    finally:
        herald.close()
    result.assert_hold()
    # Every contact with a phone was reached; nobody was failed by the faults.
    assert result.outcomes_in_db.get("undeliverable", 0) <= _contacts(scale) // 25 + 1
    report.add(fault, result.figures() | figures)


async def _run(
    herald: Herald, pg_url: str, data_dir: Path, scale: Scale, epoch: datetime, fault: str
) -> tuple[Invariants, dict[str, Any]]:
    contacts = _contacts(scale)
    async with running_herald(herald, host="127.0.0.1", port=0, workers=False) as running:
        scenario = Scenario(
            seed=17,
            time_compression=SPEEDUP,
            webhook_base_url=running.url,
            whatsapp=ChannelScenario(fail_rate=0.2, fail_codes=["131049"], latency_ms=50),
            sms=ChannelScenario(latency_ms=50),
        )
        with ProcessSandbox(scenario) as sandbox:
            await asyncio.to_thread(
                add_integrations,
                herald,
                whatsapp_url=sandbox.base_url,
                sms_url=sandbox.base_url,
                herald_url=running.url,
                rate_per_second=500 if scale.is_full else 40,
            )
            campaign = await asyncio.to_thread(
                draft_campaign, herald, contacts, whatsapp_then_sms(window_minutes=60)
            )
            cluster = await asyncio.to_thread(Cluster, pg_url, data_dir, scale.workers, epoch)
            try:
                started = time.monotonic()
                await asyncio.to_thread(launch, herald, campaign)
                if fault == "repeated_sigkill":
                    figures = await _kill_repeatedly(cluster, scale)
                else:
                    figures = await _cut_connections(pg_url)
                await _until_sent(herald, campaign, 3600 if scale.is_full else 240)
                figures["seconds_to_sent"] = round(time.monotonic() - started, 1)
            finally:
                await asyncio.to_thread(cluster.stop)
            await asyncio.sleep(0.5)
            result = await asyncio.to_thread(invariants, herald, campaign, sandbox)
            timeline = await asyncio.to_thread(log_kinds, herald, campaign)
    # Sends a crash or a cut connection left unanswered: recorded "unknown", never resent.
    figures["sends_recorded_unknown"] = timeline.get("unknown", 0)
    return result, figures | {"workers": scale.workers}


async def _kill_repeatedly(cluster: Cluster, scale: Scale) -> dict[str, Any]:
    chooser = random.Random(29)
    kills = 20 if scale.is_full else 4
    for _ in range(kills):
        await asyncio.sleep(chooser.uniform(0.5, 2.5))
        await asyncio.to_thread(cluster.kill_and_restart, chooser.randrange(len(cluster.workers)))
    return {"kills": kills}


async def _cut_connections(pg_url: str) -> dict[str, Any]:
    terminated = 0
    for _ in range(2):
        await asyncio.sleep(2.0)
        terminated += await asyncio.to_thread(_terminate_backends, pg_url)
    return {"connections_terminated": terminated}


def _terminate_backends(pg_url: str) -> int:
    """What a database restart does to Herald: every connection of it is cut."""
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        with engine.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        engine.dispose()


async def _until_sent(herald: Herald, campaign: int, within_seconds: float) -> None:
    deadline = time.monotonic() + within_seconds
    while True:
        try:
            status = await asyncio.to_thread(campaign_status, herald, campaign)
        except Exception:  # the connection was cut under this very poll: ask again
            status = "unknown"
        if status == "sent":
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"campaign still {status} after {within_seconds} s")
        await asyncio.sleep(0.5)
