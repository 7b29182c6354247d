"""``herald user`` and ``herald api-key`` on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from herald.cli.main import app
from herald.domain.api_keys import parse_api_key
from herald.services.audit import list_audit
from herald.services.container import Herald
from herald.settings import Settings
from herald.testing import FakeClock


@pytest.fixture
def runner(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("HERALD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HERALD_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no stray .env
    return CliRunner()


def sign_in(sqlite_url: str, tmp_path: Path, email: str, password: str) -> int:
    herald = Herald.create(Settings(database_url=sqlite_url, data_dir=tmp_path), FakeClock())
    try:
        with herald.sessions() as session:
            return herald.login.authenticate(session, email, password, "127.0.0.1").id
    finally:
        herald.close()


def test_create_the_first_admin_from_stdin_or_a_variable(
    runner: CliRunner, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = runner.invoke(
        app, ["user", "create", "--admin", "Ada@Example.com"], input="ada's long passphrase\n"
    )
    assert created.exit_code == 0, created.output
    assert "created admin ada@example.com (id 1)" in created.output
    assert "ada's long passphrase" not in created.output
    monkeypatch.setenv("MAX_PASSWORD", "max's long passphrase")
    member = runner.invoke(
        app,
        ["user", "create", "max@example.com", "--name", "Max", "--password-env", "MAX_PASSWORD"],
    )
    assert "created member max@example.com (id 2)" in member.output
    assert sign_in(sqlite_url, tmp_path, "ada@example.com", "ada's long passphrase") == 1
    listed = runner.invoke(app, ["user", "list"]).output.splitlines()
    assert listed[0].startswith("1\tada@example.com\tadmin\tactive\t")
    assert listed[1] == "2\tmax@example.com\tmember\tactive\tnever"


def test_bad_input_exits_with_a_message(runner: CliRunner) -> None:
    short = runner.invoke(app, ["user", "create", "ada@example.com"], input="short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    unset = runner.invoke(app, ["user", "create", "a@example.com", "--password-env", "NOPE_X"])
    assert unset.exit_code == 2 and "NOPE_X is empty or unset" in unset.output
    missing = runner.invoke(app, ["user", "deactivate", "nobody@example.com"])
    assert missing.exit_code == 2 and "no user with email" in missing.output


def test_deactivate_and_reset_a_password(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    runner.invoke(
        app, ["user", "create", "--admin", "ada@example.com"], input="ada's long passphrase\n"
    )
    runner.invoke(app, ["user", "create", "max@example.com"], input="max's long passphrase\n")
    reset = runner.invoke(
        app, ["user", "set-password", "ada@example.com"], input="ada's newer passphrase\n"
    )
    assert reset.exit_code == 0, reset.output
    assert sign_in(sqlite_url, tmp_path, "ada@example.com", "ada's newer passphrase") == 1
    gone = runner.invoke(app, ["user", "deactivate", "max@example.com"])
    assert gone.exit_code == 0
    assert "max@example.com\tmember\tdeactivated" in runner.invoke(app, ["user", "list"]).output
    last = runner.invoke(app, ["user", "deactivate", "ada@example.com"])
    assert last.exit_code == 2 and "last active admin" in last.output


def test_api_keys_from_the_command_line(runner: CliRunner, sqlite_url: str, tmp_path: Path) -> None:
    runner.invoke(
        app, ["user", "create", "--admin", "ada@example.com"], input="ada's long passphrase\n"
    )
    created = runner.invoke(
        app, ["api-key", "create", "CRM sync", "--scope", "write", "--owner", "ada@example.com"]
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    parsed = parse_api_key(token)
    assert parsed is not None
    listed = runner.invoke(app, ["api-key", "list"]).output
    assert f"hk_{parsed.prefix}_…\twrite\tCRM sync\tada@example.com\tactive\tnever used" in listed
    assert parsed.secret not in listed
    revoked = runner.invoke(app, ["api-key", "revoke", "1"])
    assert revoked.exit_code == 0 and "revoked key 'CRM sync'" in revoked.output
    assert runner.invoke(app, ["api-key", "list"]).output == ""
    assert "revoked " in runner.invoke(app, ["api-key", "list", "--all"]).output
    herald = Herald.create(Settings(database_url=sqlite_url, data_dir=tmp_path), FakeClock())
    try:
        with herald.sessions() as session:
            entries = list_audit(session).items
    finally:
        herald.close()
    assert [e.action for e in entries[:2]] == ["api_key.revoked", "api_key.created"]
    assert entries[0].actor.kind == "cli"
    assert all(parsed.secret not in str(e.details) for e in entries)
