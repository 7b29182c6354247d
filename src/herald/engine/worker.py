"""Long-running workers: a base class, and a runner that keeps them going.

A worker does one bounded unit of work per :meth:`Worker.run_once` (claim a
batch, process it, write back) and says how much it did; the runner loops,
sleeping only when there was nothing to do. One failing iteration is logged
and retried after a pause; it never stops the loop or the other workers.
Stopping is graceful: the current iteration finishes, nothing new is claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from herald.clock import Clock
from herald.store import workers as worker_store

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=30)
ERROR_PAUSE_SECONDS = 1.0


class Worker(ABC):
    """One kind of background work."""

    name: str = "worker"
    idle_seconds: float = 0.2

    @abstractmethod
    async def run_once(self) -> int:
        """Do one batch of work; return how many items were handled (0 = idle)."""

    def request_stop(self) -> None:  # noqa: B027 - most workers need nothing more
        """The runner is stopping: cut the current iteration short where that is safe."""


class WorkerRunner:
    def __init__(
        self,
        workers: Sequence[Worker],
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        wakes: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """``wakes`` names, per worker, the workers to wake after it did work
        (the router making journeys due wakes the journey workers)."""
        self.workers = list(workers)
        self._wakes = {name: list(targets) for name, targets in (wakes or {}).items()}
        self._sessions = sessions
        self._clock = clock
        self._stopping = asyncio.Event()
        self._wakeups = {worker.name: asyncio.Event() for worker in self.workers}
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.iterations: dict[str, int] = dict.fromkeys(self._wakeups, 0)
        self.failures: dict[str, int] = dict.fromkeys(self._wakeups, 0)

    def stop(self) -> None:
        """Ask every loop to finish its current iteration and return."""
        self._stopping.set()
        for worker in self.workers:
            worker.request_stop()
        for event in self._wakeups.values():
            event.set()

    def wake(self, name: str | None = None) -> None:
        for worker_name, event in self._wakeups.items():
            if name is None or name == worker_name:
                event.set()

    async def run(self) -> None:
        """Run every worker until :meth:`stop`; then deregister."""
        self._stopping.clear()
        await asyncio.to_thread(self._beat)
        tasks = [asyncio.create_task(self._loop(worker)) for worker in self.workers]
        tasks.append(asyncio.create_task(self._heartbeat()))
        try:
            await asyncio.gather(*tasks)
        finally:
            await asyncio.to_thread(self._deregister)

    async def _loop(self, worker: Worker) -> None:
        wakeup = self._wakeups[worker.name]
        while not self._stopping.is_set():
            try:
                handled = await worker.run_once()
            except Exception:
                self.failures[worker.name] += 1
                logger.exception("worker %s failed; retrying", worker.name)
                handled = 0
                await self._sleep(wakeup, ERROR_PAUSE_SECONDS)
            self.iterations[worker.name] += 1
            if handled:
                for target in self._wakes.get(worker.name, ()):
                    self._wakeups[target].set()
            if handled == 0:
                await self._sleep(wakeup, worker.idle_seconds)

    async def _sleep(self, wakeup: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), timeout=seconds)
        wakeup.clear()

    async def _heartbeat(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.to_thread(self._beat)
            except Exception:
                logger.exception("worker heartbeat failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=HEARTBEAT_SECONDS)

    def _beat(self) -> None:
        now = self._clock.now()
        row = worker_store.WorkerRow(
            id=self.worker_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at=now,
            heartbeat_at=now,
        )
        with self._sessions() as session, session.begin():
            worker_store.beat(session, row, now)

    def _deregister(self) -> None:
        with self._sessions() as session, session.begin():
            worker_store.remove(session, self.worker_id)
