"""Engine and session construction for the embedded SQLite and for PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalize_database_url(url: str) -> str:
    """Pick the drivers Herald ships with: psycopg 3 for PostgreSQL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_database_engine(url: str, *, echo: bool = False, read_only: bool = False) -> Engine:
    """An engine tuned for Herald's access pattern.

    SQLite runs in WAL mode so the web process can read while workers write;
    ``busy_timeout`` makes a writer wait for the lock instead of failing.
    Transactions take the write lock as they begin, except on a ``read_only``
    engine, whose transactions read a snapshot without waiting for, or
    blocking, any writer.
    """
    url = normalize_database_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        if read_only:
            event.listen(engine, "begin", _begin_deferred)
        else:
            _serialize_writers(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions
    # begin: the module's implicit BEGIN comes only before the first write,
    # which leaves reads outside the transaction they belong to.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
    finally:
        cursor.close()


class WriterQueue:
    """First come, first served access to SQLite's single write lock, with a fast lane.

    SQLite makes a blocked writer poll with growing sleeps, so under steady
    load a waiting writer can lose the race again and again to busier ones.
    Queuing this process's writers before ``BEGIN IMMEDIATE`` makes waits
    short and fair. Short, latency-sensitive writes (recording webhooks,
    routing events) take the fast lane and go before queued batch work, so a
    provider's webhook waits for at most one worker transaction. Other
    processes still meet SQLite's own lock and busy timeout.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._lanes: dict[bool, deque[object]] = {True: deque(), False: deque()}
        self._is_busy = False

    def acquire(self, *, is_urgent: bool = False) -> None:
        me = object()
        with self._condition:
            self._lanes[is_urgent].append(me)
            while self._is_busy or self._next() is not me:
                self._condition.wait()
            self._lanes[is_urgent].popleft()
            self._is_busy = True

    def _next(self) -> object | None:
        for lane in (self._lanes[True], self._lanes[False]):
            if lane:
                return lane[0]
        return None

    def release(self) -> None:
        with self._condition:
            self._is_busy = False
            self._condition.notify_all()


_urgency = threading.local()


@contextlib.contextmanager
def urgent_writes() -> Iterator[None]:
    """Transactions begun by this thread inside the block take the fast lane."""
    previous = getattr(_urgency, "is_urgent", False)
    _urgency.is_urgent = True
    try:
        yield
    finally:
        _urgency.is_urgent = previous


def _serialize_writers(engine: Engine) -> None:
    queue = WriterQueue()

    def begin(connection: Any) -> None:
        queue.acquire(is_urgent=getattr(_urgency, "is_urgent", False))
        connection.info["holds_writer_turn"] = True
        try:
            # Take the write lock when the transaction starts. A deferred
            # transaction that reads and then writes fails with SQLITE_BUSY
            # if another connection wrote in between.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            end(connection)
            raise

    def end(connection: Any) -> None:
        if connection.info.pop("holds_writer_turn", False):
            queue.release()

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
