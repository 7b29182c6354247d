"""An ordered, lazy ``map`` over worker processes, for CPU-bound batches.

``concurrent.futures.Executor.map`` submits every input up front, which for
a million-row file would hold the whole file in memory. This map keeps a
bounded number of batches in flight and yields results in input order.

The first few batches run in the calling process: a small file is done
before worker processes would have started. Workers are spawned (not
forked), so a parent holding database connections or threads is safe.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

IN_PROCESS_BATCHES = 4
IN_FLIGHT_PER_WORKER = 2


def resolve_workers(workers: int) -> int:
    """``0`` means one worker per CPU core."""
    return workers if workers > 0 else (os.cpu_count() or 1)


class ProcessMap:
    """Callable like ``map(function, batches)``; ``function`` must be picklable."""

    def __init__(self, workers: int, *, in_process_batches: int = IN_PROCESS_BATCHES) -> None:
        self.workers = resolve_workers(workers)
        self.in_process_batches = in_process_batches

    def __call__(self, function: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]:
        iterator = iter(batches)
        for batch in islice(iterator, self.in_process_batches):
            yield function(batch)
        if self.workers <= 1:
            yield from map(function, iterator)
            return
        yield from self._in_pool(function, iterator)

    def _in_pool(self, function: Callable[[T], R], iterator: Iterator[T]) -> Iterator[R]:
        first = next(iterator, None)
        if first is None:
            return
        pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        in_flight: deque[Future[R]] = deque([pool.submit(function, first)])
        limit = self.workers * IN_FLIGHT_PER_WORKER
        try:
            for batch in iterator:
                in_flight.append(pool.submit(function, batch))
                if len(in_flight) >= limit:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
