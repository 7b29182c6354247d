"""The storage foundation: migrations, WAL mode, UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select

from herald.store.base import UtcDateTime
from herald.store.database import create_database_engine
from herald.store.schema import metadata


def test_migrations_produce_exactly_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    finally:
        engine.dispose()
    assert mode == "wal"
    assert foreign_keys == 1


def test_utc_datetimes_round_trip_as_aware_utc(engine: Engine) -> None:
    table = Table(
        "utc_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UtcDateTime()),
    )
    table.create(engine)
    moment = datetime(2025, 3, 30, 2, 30, tzinfo=timezone(timedelta(hours=2)))
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, at=moment))
        stored = connection.execute(select(table.c.at)).scalar_one()
    assert stored == moment
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == moment.astimezone(UTC)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    table = Table(
        "naive_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UtcDateTime()),
    )
    table.create(engine)
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as connection:
        connection.execute(insert(table).values(id=1, at=datetime(2025, 1, 1)))
