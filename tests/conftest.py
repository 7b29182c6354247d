"""Shared fixtures: a clean database per test, on SQLite and on PostgreSQL.

Each backend gets a template database migrated once per test session; every
test then receives its own copy (a file copy for SQLite, ``CREATE DATABASE
... TEMPLATE`` for PostgreSQL), so tests never share state and never pay for
migrations twice.

PostgreSQL tests run when ``HERALD_TEST_DATABASE_URL`` names a server
(``.ci/run`` sets it). ``HERALD_TEST_REQUIRE_POSTGRES=1`` turns "server not
reachable" into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from herald.store.database import create_database_engine, normalize_database_url
from herald.store.migrate import upgrade_database

SAMPLES_DIR = Path(__file__).parent / "fixtures" / "samples"
POSTGRES_HOWTO = (
    "PostgreSQL tests skipped: set HERALD_TEST_DATABASE_URL="
    "postgresql://postgres@127.0.0.1:5432/test (any database on a server you may "
    "create databases on) or run .ci/run"
)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES_DIR


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        upgrade_database(engine)
    finally:
        # Closing the last connection checkpoints the WAL into the main file,
        # so copying the one file copies the whole database.
        engine.dispose()
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _postgres_admin_url() -> str:
    url = os.environ.get("HERALD_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("HERALD_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail("HERALD_TEST_REQUIRE_POSTGRES=1 but HERALD_TEST_DATABASE_URL is not set")
        pytest.skip(POSTGRES_HOWTO)
    return normalize_database_url(url)


def _admin_engine(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[tuple[str, str]]:
    """Yields (admin URL, template database name)."""
    admin_url = _postgres_admin_url()
    admin = _admin_engine(admin_url)
    name = f"herald_tpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("HERALD_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {admin_url} is required but unusable: {exc}")
        pytest.skip(f"{POSTGRES_HOWTO} ({exc})")
    template_url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_database_engine(template_url)
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    yield admin_url, name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _copy_postgres(admin_url: str, template: str) -> Iterator[str]:
    admin = _admin_engine(admin_url)
    name = f"herald_t_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(
            text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        )
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database of each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "herald.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
    else:
        admin_url, template_name = request.getfixturevalue("postgres_template")
        yield from _copy_postgres(admin_url, template_name)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A freshly migrated SQLite database, for tests that need only one backend."""
    target = tmp_path / "herald.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()
