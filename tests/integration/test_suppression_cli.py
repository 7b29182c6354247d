"""``herald suppression`` on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from herald.cli.main import app


@pytest.fixture
def runner(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("HERALD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HERALD_DEFAULT_REGION", "ES")
    monkeypatch.chdir(tmp_path)  # no stray .env
    return CliRunner()


def test_import_check_export_remove(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("\ufeffaddress,reason\n600 111 222,keyword\nnope,\nAna@Example.com,\n")
    imported = runner.invoke(app, ["suppression", "import", str(source)])
    assert imported.exit_code == 1  # one row rejected; the others are kept
    assert "3 rows read: 2 added, 0 already present, 1 rejected" in imported.output
    assert "line 3, column 'address'" in imported.output

    checked = runner.invoke(app, ["suppression", "check", "600111222"])
    assert checked.output.strip() == "+34600111222: suppressed on whatsapp, sms, voice, email"

    target = tmp_path / "out.csv"
    exported = runner.invoke(app, ["suppression", "export", str(target)])
    assert exported.exit_code == 0
    lines = target.read_text().splitlines()
    assert lines[1].startswith("'+34600111222,keyword,all")
    assert lines[2].startswith("ana@example.com,import,all")

    removed = runner.invoke(app, ["suppression", "remove", "+34 600 111 222"])
    assert removed.output.strip() == "1 entries removed"
    assert "not suppressed" in runner.invoke(app, ["suppression", "check", "600111222"]).output


def test_add_is_idempotent_and_scoped(runner: CliRunner) -> None:
    first = runner.invoke(app, ["suppression", "add", "+34600111222", "--scope", "whatsapp"])
    assert first.output.strip() == "+34600111222 (whatsapp): added"
    again = runner.invoke(app, ["suppression", "add", "+34600111222", "--scope", "whatsapp"])
    assert again.output.strip() == "+34600111222 (whatsapp): already suppressed"
    checked = runner.invoke(app, ["suppression", "check", "+34600111222"])
    assert checked.output.strip() == "+34600111222: suppressed on whatsapp"


def test_bad_input_exits_with_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["suppression", "check", "not a phone"])
    assert result.exit_code == 2 and "error: 'not a phone' is not a phone number" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = runner.invoke(app, ["suppression", "import", str(empty)])
    assert result.exit_code == 2 and "the file is empty" in result.output
