"""The in-process queue in front of SQLite's write lock: FIFO, with a fast lane."""

from __future__ import annotations

import threading
import time

from herald.store.database import WriterQueue


def test_writers_are_served_in_arrival_order_with_urgent_ones_first() -> None:
    queue = WriterQueue()
    queue.acquire()  # a long transaction is running
    served: list[str] = []
    threads = []
    for name, urgent in (("batch-1", False), ("batch-2", False), ("webhook", True)):
        thread = threading.Thread(target=_take, args=(queue, name, urgent, served))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # arrival order: batch-1, batch-2, webhook
    queue.release()
    for thread in threads:
        thread.join(timeout=5)
    assert served == ["webhook", "batch-1", "batch-2"]


def _take(queue: WriterQueue, name: str, urgent: bool, served: list[str]) -> None:
    queue.acquire(is_urgent=urgent)
    served.append(name)
    queue.release()
