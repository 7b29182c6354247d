"""How long the send-time suppression check takes for one claimed batch.

    .venv/bin/python bench/suppression_lookup.py [--entries 200000] [--batch 500]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Fills a fresh database with ``--entries`` suppressions, then times
``find_suppressed`` on batches of ``--batch`` addresses of which 1 in 20 is
suppressed, and prints the median and 95th percentile. Without
``--database-url`` it uses a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from herald.domain.channels import Channel
from herald.domain.suppression import SuppressionReason, SuppressionScope
from herald.services.suppression import find_suppressed
from herald.store.database import create_database_engine, create_session_factory
from herald.store.migrate import upgrade_database
from herald.store.suppression import NewSuppression, insert_new

ROUNDS = 50


def _phone(n: int) -> str:
    return f"+1202{n:07d}"


def fill(engine: Engine, entries: int) -> None:
    moment = datetime(2025, 1, 6, tzinfo=UTC)
    with create_session_factory(engine)() as session:
        for start in range(0, entries, 500):
            batch = [
                NewSuppression(
                    _phone(n * 20), SuppressionScope.ALL, SuppressionReason.KEYWORD, moment
                )
                for n in range(start, min(start + 500, entries))
            ]
            insert_new(session, batch)
        session.commit()
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load; without statistics the
        # planner guesses a sequential scan for a freshly filled table.
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE suppressions")


def measure(engine: Engine, entries: int, batch_size: int) -> list[float]:
    timings = []
    with create_session_factory(engine)() as session:
        for round_ in range(ROUNDS):
            first = (round_ * batch_size * 7) % (entries * 20 - batch_size)
            batch = [_phone(first + k) for k in range(batch_size)]
            started = time.perf_counter()
            found = find_suppressed(session, batch, Channel.SMS)
            timings.append(time.perf_counter() - started)
            assert len(found) in (batch_size // 20, batch_size // 20 + 1)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_database_engine(url)
        try:
            upgrade_database(engine)
            fill(engine, args.entries)
            timings = sorted(measure(engine, args.entries, args.batch))
        finally:
            engine.dispose()
    median = statistics.median(timings) * 1000
    p95 = timings[int(len(timings) * 0.95) - 1] * 1000
    print(
        f"{engine.dialect.name}: {args.entries} entries, batches of {args.batch}: "
        f"median {median:.2f} ms, p95 {p95:.2f} ms per batch"
    )


if __name__ == "__main__":
    main()
