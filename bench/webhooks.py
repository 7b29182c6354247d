"""Webhook ingestion under load: signed status callbacks posted at ``herald serve``.

Herald's web server runs in its own process (``herald serve --no-workers``)
on a fresh database with a WhatsApp integration; this process posts
WhatsApp delivery statuses, each correctly signed with the integration's app
secret and each about a different message, from ``--concurrency``
connections on loopback. The run is bounded twice: ``--count`` callbacks at
most, ``--seconds`` of sending at most.

It reports callbacks per second sustained, the latency percentiles of
Herald's answers, and whether any was lost: the inbox must hold exactly one
event per callback Herald answered with 200, and every callback must have
been answered with 200.

Reproduce::

    .venv/bin/python -m bench.webhooks --count 20000 --seconds 60
    HERALD_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/herald_bench \\
        .venv/bin/python -m bench.webhooks       # on PostgreSQL (the database is emptied)

``--json`` prints the figures as JSON (``scripts/reliability`` uses it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import func, select, text

from herald.channels.sandbox.process import free_port
from herald.channels.sandbox.scenario import SandboxCredentials
from herald.channels.sandbox.whatsapp_webhooks import envelope, signed, status_value
from herald.services.container import Herald
from herald.settings import Settings
from herald.store.inbox import ProviderEventRow

CREDENTIALS = SandboxCredentials()
START_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class LoadResult:
    database: str
    concurrency: int
    callbacks_sent: int
    answered_ok: int
    answers: dict[str, int]
    seconds: float
    callbacks_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    events_stored: int
    lost: int


def callback(index: int, at: datetime) -> tuple[bytes, dict[str, str]]:
    """A signed "delivered" status about message ``index``, as Meta would send it."""
    value = status_value(
        f"wamid.bench{index:012d}",
        "delivered",
        at,
        "15551234567",
        callback_data=f"h{900_000_000 + index}-0",
        category="utility",
    )
    return signed(envelope(CREDENTIALS, value), CREDENTIALS.whatsapp_app_secret)


def prepare_database(database_url: str, data_dir: Path) -> None:
    """A migrated, empty database with the WhatsApp integration the callbacks sign for."""
    herald = Herald.create(Settings(database_url=database_url, data_dir=data_dir))
    try:
        with herald.engine.begin() as connection:
            connection.execute(text("DELETE FROM provider_events"))
            connection.execute(text("DELETE FROM integrations WHERE name = 'bench-whatsapp'"))
        with herald.sessions() as session:
            herald.integrations.create(
                session,
                name="bench-whatsapp",
                kind="whatsapp",
                settings={
                    "graph_base_url": "http://127.0.0.1:9",
                    "phone_number_id": CREDENTIALS.whatsapp_phone_number_id,
                    "waba_id": CREDENTIALS.whatsapp_business_account_id,
                    "access_token": CREDENTIALS.whatsapp_access_token,
                    "app_secret": CREDENTIALS.whatsapp_app_secret,
                    "webhook_verify_token": "bench-verify-token-0123456789",
                },
            )
    finally:
        herald.close()


def count_events(database_url: str, data_dir: Path) -> int:
    herald = Herald.create(Settings(database_url=database_url, data_dir=data_dir), migrate=False)
    try:
        with herald.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(ProviderEventRow)) or 0)
    finally:
        herald.close()


class ServeProcess:
    """``herald serve --no-workers`` on a free loopback port."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.port = free_port()
        environment = os.environ | {
            "HERALD_DATABASE_URL": database_url,
            "HERALD_DATA_DIR": str(data_dir),
            "HERALD_LOG_LEVEL": "WARNING",
        }
        self._log = (data_dir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "herald", "serve", "--no-workers", "--port", str(self.port)],
            cwd=data_dir,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._is_up():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"herald serve did not start; see {data_dir / 'serve.log'}")
            time.sleep(0.1)

    def _is_up(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1):  # noqa: S310
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


async def post_callbacks(
    url: str, count: int, concurrency: int, max_seconds: float
) -> tuple[list[float], Counter[int], float]:
    """Post up to ``count`` callbacks for at most ``max_seconds``; latencies in seconds."""
    latencies: list[float] = []
    answers: Counter[int] = Counter()
    now = datetime.now(UTC)
    bodies = [callback(index, now) for index in range(count)]
    next_index = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    started = time.perf_counter()
    deadline = started + max_seconds

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal next_index
        while next_index < count and time.perf_counter() < deadline:
            body, headers = bodies[next_index]
            next_index += 1
            sent_at = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    answers[answer.status] += 1
            except aiohttp.ClientError:
                answers[0] += 1
            latencies.append(time.perf_counter() - sent_at)

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(sender(session) for _ in range(concurrency)))
    return latencies, answers, time.perf_counter() - started


def run(database_url: str | None, count: int, seconds: float, concurrency: int) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="herald-bench-webhooks-") as directory:
        data_dir = Path(directory)
        url = database_url or f"sqlite:///{data_dir / 'herald.db'}"
        prepare_database(url, data_dir)
        server = ServeProcess(url, data_dir)
        try:
            latencies, answers, elapsed = asyncio.run(
                post_callbacks(server.url + "/webhooks/whatsapp", count, concurrency, seconds)
            )
        finally:
            server.stop()
        stored = count_events(url, data_dir)
    ok = answers.get(200, 0)
    ordered = sorted(latencies)
    return LoadResult(
        database="postgresql" if database_url else "sqlite",
        concurrency=concurrency,
        callbacks_sent=len(latencies),
        answered_ok=ok,
        answers={str(status): n for status, n in sorted(answers.items())},
        seconds=round(elapsed, 2),
        callbacks_per_second=round(ok / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(statistics.median(ordered) * 1000, 1) if ordered else 0.0,
        p99_ms=round(_percentile(ordered, 0.99) * 1000, 1),
        max_ms=round(ordered[-1] * 1000, 1) if ordered else 0.0,
        events_stored=stored,
        lost=len(latencies) - stored,
    )


def _percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="callbacks to post at most")
    parser.add_argument("--seconds", type=float, default=60.0, help="stop sending after this")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in parallel")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = run(
        os.environ.get("HERALD_BENCH_DATABASE_URL"), args.count, args.seconds, args.concurrency
    )
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        for name, value in asdict(result).items():
            print(f"{name:>22}: {value}")
    return 0 if result.lost == 0 and result.answered_ok == result.callbacks_sent else 1


if __name__ == "__main__":
    raise SystemExit(main())
