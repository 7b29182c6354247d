"""``herald audience ...`` through the command line runner: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from herald.cli import audience as audience_cli
from herald.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HERALD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HERALD_DATABASE_URL", raising=False)
    monkeypatch.setenv("HERALD_DEFAULT_REGION", "US")
    monkeypatch.setenv("COLUMNS", "250")


def test_check_prints_the_summary_and_every_flagged_row(samples_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "audience",
            "check",
            str(samples_dir / "messy-excel-export.csv"),
            "--default-region",
            "GB",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "valid contacts" in result.stdout and "│ 8" in result.stdout
    assert "{{appointment_date}}" in result.stdout
    assert "shifted_columns" in result.stdout
    assert "the same email and phone as row 2" in result.stdout


def test_check_json_lists_flagged_records(samples_dir: Path) -> None:
    result = runner.invoke(
        app, ["audience", "check", str(samples_dir / "seed-example.csv"), "--json"]
    )
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["records_read"] == 3
    assert report["valid_contacts"] == 3
    assert report["phones_available"] == 2
    assert report["custom_fields"][0]["variable"] == "name"
    assert report["problems"] == [
        {
            "row": 4,
            "column": "phone",
            "code": "phone_invalid",
            "severity": "warning",
            "message": report["problems"][0]["message"],
        }
    ]


def test_check_uses_the_default_region_from_settings(
    samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(samples_dir / "messy-excel-export.csv")
    monkeypatch.setenv("HERALD_DEFAULT_REGION", "GB")
    report = json.loads(runner.invoke(app, ["audience", "check", path, "--json"]).stdout)
    assert not any(p["row"] == 3 for p in report["problems"])


def test_check_exits_1_without_a_valid_contact(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("email,phone\nnope,12\n")
    result = runner.invoke(app, ["audience", "check", str(path)])
    assert result.exit_code == 1
    assert "phone_invalid" in result.stdout


def test_check_exits_1_when_no_contact_column(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("name,city\nAlex,Paris\n")
    result = runner.invoke(app, ["audience", "check", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "no_contact_column"


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04" + bytes(64), bytes(range(256)) * 8])
def test_check_exits_2_on_an_unreadable_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    result = runner.invoke(app, ["audience", "check", str(path)])
    assert result.exit_code == 2
    assert "unreadable_file" in result.stderr


def test_check_exits_2_on_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audience", "check", str(tmp_path / "nope.csv"), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "unreadable_file"


def test_import_list_export(
    database_url: str, samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERALD_DATABASE_URL", database_url)
    sample = str(samples_dir / "messy-excel-export.csv")
    result = runner.invoke(
        app, ["audience", "import", sample, "--name", "Messy", "--default-region", "GB"]
    )
    assert result.exit_code == 0, result.output
    assert "Imported audience 1 'Messy' from messy-excel-export.csv" in result.stdout
    listed = runner.invoke(app, ["audience", "list"])
    assert listed.exit_code == 0
    assert "Messy" in listed.stdout and "messy-excel-export.csv" in listed.stdout
    out = tmp_path / "out.csv"
    exported = runner.invoke(app, ["audience", "export", "1", "-o", str(out)])
    assert exported.exit_code == 0
    assert out.read_bytes().startswith("\ufeffphone,email,Full Name".encode())
    to_stdout = runner.invoke(app, ["audience", "export", "1"])
    assert to_stdout.stdout_bytes == out.read_bytes()


def test_import_migrates_a_fresh_data_directory(samples_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["audience", "import", str(samples_dir / "seed-example.csv"), "--name", "Seed"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "herald.db").exists()


def test_export_of_an_unknown_audience_exits_1() -> None:
    result = runner.invoke(app, ["audience", "export", "42"])
    assert result.exit_code == 1
    assert "There is no audience 42" in result.stderr


def test_import_refuses_an_empty_name(samples_dir: Path) -> None:
    result = runner.invoke(
        app, ["audience", "import", str(samples_dir / "seed-example.csv"), "--name", " "]
    )
    assert result.exit_code == 1
    assert "invalid_name" in result.stderr


def test_large_files_get_a_progress_bar(samples_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audience_cli, "PROGRESS_MIN_BYTES", 0)
    updates: list[int] = []
    real = audience_cli.Progress.update

    def spy(self: audience_cli.Progress, task: object, **fields: object) -> None:
        updates.append(int(fields["completed"]))  # type: ignore[call-overload]
        real(self, task, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(audience_cli.Progress, "update", spy)
    path = samples_dir / "seed-example.csv"
    result = runner.invoke(app, ["audience", "check", str(path)])
    assert result.exit_code == 0
    assert updates[-1] == path.stat().st_size


def test_many_problems_are_cut_short_in_the_table(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("email,phone\n" + "".join(f"a{n}@example.com,1\n" for n in range(250)))
    result = runner.invoke(app, ["audience", "check", str(path)])
    assert result.exit_code == 0
    assert "... and more (50+): `herald audience check FILE --json`" in result.stdout


def test_file_content_is_printed_as_text_not_markup(tmp_path: Path) -> None:
    path = tmp_path / "markup.csv"
    path.write_text("email,[bold]note[/i]\n[/red]@x,[link]\n")
    result = runner.invoke(app, ["audience", "check", str(path)])
    assert result.exit_code == 1
    assert "[/red]@x" in result.stdout
    assert "[bold]note[/i]" in result.stdout
