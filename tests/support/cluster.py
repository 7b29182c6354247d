"""Herald as separate OS processes on one PostgreSQL database, for crash and fault tests.

A :class:`Cluster` runs what a scaled-out deployment runs, each in its own
process: the provider sandbox (whose log is the independent witness of what
was sent), one ``herald serve --no-workers`` that receives the sandbox's
webhooks, and any number of ``herald worker`` processes that a test starts,
kills and restarts at will. The test process holds its own :class:`Herald`
on the same database to set campaigns up and to read the results.

Every process gets the same database URL, secret key (so integration secrets
written by one are readable by all) and compressed clock (same epoch and
speedup, so they agree on "now" and days of follow-up pass in seconds).
Worker leases are short and in real seconds, so the journeys of a killed
worker are taken over quickly.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import func, select

from herald.channels.sandbox.process import ProcessSandbox, free_port
from herald.channels.sandbox.scenario import Scenario
from herald.services.container import Herald
from herald.settings import Settings
from herald.store.journeys import JOURNEYS, MESSAGES

T = TypeVar("T")
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class ClusterConfig:
    """What every process of the cluster shares."""

    database_url: str
    directory: Path
    speedup: float = 1.0
    lease_seconds: float = 10.0
    epoch: datetime = field(default_factory=lambda: datetime.now(UTC))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    extra_environ: dict[str, str] = field(default_factory=dict)

    def environ(self) -> dict[str, str]:
        """The environment of every Herald process (the parent's, plus Herald's settings)."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
        return inherited | {
            "HERALD_DATABASE_URL": self.database_url,
            "HERALD_DATA_DIR": str(self.directory / "data"),
            "HERALD_SECRET_KEY": self.secret_key,
            "HERALD_CLOCK_SPEEDUP": repr(self.speedup),
            "HERALD_CLOCK_EPOCH": self.epoch.isoformat(),
            "HERALD_WORKER_LEASE_SECONDS": repr(self.lease_seconds),
            "PYTHONUNBUFFERED": "1",
            **self.extra_environ,
        }

    def settings(self) -> Settings:
        """The same settings, for the test's own in-process Herald."""
        return Settings(
            database_url=self.database_url,
            data_dir=self.directory / "data",
            secret_key=self.secret_key,
            clock_speedup=self.speedup,
            clock_epoch=self.epoch,
            worker_lease_seconds=self.lease_seconds,
        )


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU time of a running process, from ``/proc`` (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class HeraldProcess:
    """One ``herald ...`` command running in the background, its output in a file."""

    def __init__(self, name: str, arguments: list[str], config: ClusterConfig) -> None:
        self.name = name
        self.output_path = config.directory / f"{name}.log"
        self._output = self.output_path.open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "herald", *arguments],
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env=config.environ(),
            cwd=config.directory,  # no stray .env from the caller's directory
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def is_running(self) -> bool:
        return self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._process.poll()

    def kill(self) -> None:
        """SIGKILL: no cleanup, no final commit, exactly like a machine losing power."""
        self._process.send_signal(signal.SIGKILL)
        self._process.wait()
        self._output.close()

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
        if self.is_running:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._output.close()
        return self._process.returncode

    def cpu_seconds(self) -> float:
        """User and system CPU time the process has used so far (0 once it has exited)."""
        return cpu_seconds(self.pid)

    def peak_rss_bytes(self) -> int:
        """The most memory the process has held (Linux ``VmHWM``); 0 once it has exited."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8")
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def output_tail(self, characters: int = 3000) -> str:
        text = self.output_path.read_text(encoding="utf-8", errors="replace")
        return text[-characters:]


class Cluster:
    """``with Cluster(config, scenario) as cluster:`` — sandbox and web receiver up, no workers.

    ``scenario`` is the sandbox's behaviour; its webhook URL and time
    compression are filled in here (the receiver's URL, the cluster's speedup).
    """

    def __init__(
        self, config: ClusterConfig, scenario: Scenario, *, web_runs_workers: bool = False
    ) -> None:
        """``web_runs_workers``: the embedded layout (``herald serve`` with its workers,
        as on SQLite), instead of a web receiver beside separate worker processes."""
        self.config = config
        self.web_runs_workers = web_runs_workers
        self.web_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        scenario = scenario.model_copy(
            update={"webhook_base_url": self.web_url, "time_compression": config.speedup}
        )
        config.directory.mkdir(parents=True, exist_ok=True)
        self.sandbox = ProcessSandbox(scenario, log_path=config.directory / "sandbox-sends.jsonl")
        self.workers: list[HeraldProcess] = []
        self._web: HeraldProcess | None = None
        self._herald: Herald | None = None
        self._started = 0

    @property
    def herald(self) -> Herald:
        """The test's own Herald on the cluster's database."""
        if self._herald is None:
            raise RuntimeError("the cluster is not running")
        return self._herald

    def __enter__(self) -> Cluster:
        try:
            # Migrates the database once, before any other process connects.
            self._herald = Herald.create(self.config.settings())
            self.sandbox.__enter__()
            workers = "--workers" if self.web_runs_workers else "--no-workers"
            self._web = HeraldProcess(
                "web",
                ["serve", workers, "--host", "127.0.0.1", "--port", str(self.web_port)],
                self.config,
            )
            self.wait_for(self._web_is_up, timeout=START_TIMEOUT_SECONDS, what="the web receiver")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for process in [*self.workers, *([self._web] if self._web else [])]:
            if process.is_running:
                process.stop()
        self.sandbox.__exit__(None, None, None)
        if self._herald is not None:
            self._herald.close()

    # -- workers --------------------------------------------------------------

    def start_worker(self) -> HeraldProcess:
        self._started += 1
        worker = HeraldProcess(f"worker-{self._started}", ["worker"], self.config)
        self.workers.append(worker)
        return worker

    @property
    def processes(self) -> list[HeraldProcess]:
        """Every Herald process started: the web receiver and the workers."""
        return [*([self._web] if self._web else []), *self.workers]

    def running_workers(self) -> list[HeraldProcess]:
        return [worker for worker in self.workers if worker.is_running]

    def in_flight(self, worker: HeraldProcess) -> int:
        """Send intents of journeys ``worker`` holds that have no answer yet.

        A journey's lease owner names the worker's process id
        (``host-pid-suffix``), so this needs no cooperation from the worker.
        """
        owned = select(JOURNEYS.c.id).where(JOURNEYS.c.lease_owner.like(f"%-{worker.pid}-%"))
        query = (
            select(func.count())
            .select_from(MESSAGES)
            .where(MESSAGES.c.status == "pending", MESSAGES.c.journey_id.in_(owned))
        )
        with self.herald.sessions() as session:
            return int(session.scalar(query) or 0)

    # -- waiting and witnesses -------------------------------------------------

    def wait_for(
        self,
        probe: Callable[[], T],
        *,
        timeout: float,
        what: str,
        interval: float = 0.2,
    ) -> T:
        """Poll ``probe`` until it returns something truthy; fail with every log on timeout.

        A worker that exited on its own (not killed by the test) fails the wait
        at once: it would otherwise show up only as a timeout.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = probe()
            if result:
                return result
            crashed = [w for w in self.workers if w.returncode not in (None, -signal.SIGKILL)]
            if crashed or time.monotonic() > deadline:
                reason = f"{crashed[0].name} exited" if crashed else f"timed out after {timeout} s"
                raise AssertionError(f"waiting for {what}: {reason}\n{self.diagnostics()}")
            time.sleep(interval)

    def diagnostics(self) -> str:
        """Where the journeys and messages stand, and the tail of every process's output."""
        processes = [*self.workers, *([self._web] if self._web else [])]
        outputs = [f"--- {p.name} (pid {p.pid}) ---\n{p.output_tail()}" for p in processes]
        sandbox = f"--- sandbox ---\n{self.sandbox.output_tail()}"
        return "\n".join([self.census(), *outputs, sandbox])

    def census(self) -> str:
        """Journeys per phase and messages per status, e.g. to see where a run got stuck."""
        with self.herald.sessions() as session:
            phases = session.execute(
                select(JOURNEYS.c.phase, func.count()).group_by(JOURNEYS.c.phase)
            ).all()
            statuses = session.execute(
                select(MESSAGES.c.step, MESSAGES.c.status, func.count()).group_by(
                    MESSAGES.c.step, MESSAGES.c.status
                )
            ).all()
        return f"journeys {dict(phases)}; messages {[tuple(row) for row in statuses]}"

    def sandbox_sends(self) -> list[dict[str, Any]]:
        """Every send the sandbox accepted, from its own log file."""
        path = self.sandbox.log_path
        if not path.exists():
            return []
        with path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]

    def sends_per_key(self) -> Counter[str]:
        """How many times the sandbox accepted each correlation key (``h{journey}-{step}``)."""
        return Counter(s["correlation_key"] for s in self.sandbox_sends() if s["correlation_key"])

    def _web_is_up(self) -> bool:
        assert self._web is not None
        if not self._web.is_running:
            raise AssertionError(f"the web receiver exited:\n{self._web.output_tail()}")
        try:
            with urllib.request.urlopen(self.web_url + "/healthz", timeout=2) as answer:  # noqa: S310
                return bool(answer.status == 200)
        except OSError:
            return False
