"""Reading pages and API endpoints never queues behind a writer (SQLite).

SQLite has one write lock, and the workers hold it for each batch of sends.
A request that only reads (including signing its caller in) must answer
while a writer holds the lock; if it took a write session it would wait for
the writer's turn, which under a large campaign made every page slow.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api_support import Api, build_api
from tests.auth_support import ADMIN_EMAIL, ADMIN_PASSWORD, log_in

API_READS = (
    "/api/v1/campaigns",
    "/api/v1/campaigns/999",
    "/api/v1/campaigns/999/progress",
    "/api/v1/campaigns/999/contacts",
    "/api/v1/campaigns/999/messages",
    "/api/v1/conversations",
)
PAGE_READS = ("/", "/campaigns", "/conversations")
PATIENCE_SECONDS = 10


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(sqlite_url, tmp_path)


def _answers_while_writer_holds_the_lock(
    api: Api, client: TestClient, paths: tuple[str, ...]
) -> None:
    for path in paths:  # the first use of a key or a session may write; not measured
        client.get(path)
    pool = ThreadPoolExecutor(max_workers=len(paths))
    try:
        with api.herald.sessions() as writer:
            writer.execute(text("SELECT 1"))  # begins the transaction: the write lock is held
            futures = {pool.submit(client.get, path): path for path in paths}
            _, waiting = wait(futures, timeout=PATIENCE_SECONDS)
    finally:
        pool.shutdown(wait=True)  # the writer is gone: anything still queued finishes
    assert sorted(futures[future] for future in waiting) == []
    for future, path in futures.items():
        assert future.result().status_code < 500, path


def test_api_reads_answer_while_a_writer_holds_the_lock(api: Api) -> None:
    _answers_while_writer_holds_the_lock(api, api.client("read"), API_READS)


def test_pages_answer_while_a_writer_holds_the_lock(api: Api) -> None:
    browser = TestClient(api.app)
    assert log_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
    _answers_while_writer_holds_the_lock(api, browser, PAGE_READS)
