"""``herald integration ...`` through the command line runner, against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from herald.channels.sandbox.scenario import SandboxCredentials
from herald.channels.sandbox.server import ThreadedSandbox
from herald.cli.integrations import collect_settings
from herald.cli.main import app
from herald.errors import UnreadableFileError, ValidationError
from herald.services.container import Herald
from herald.settings import load_settings

runner = CliRunner()
CREDS = SandboxCredentials()


@pytest.fixture(autouse=True)
def herald_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    monkeypatch.setenv("HERALD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HERALD_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def sandbox_url() -> object:
    with ThreadedSandbox() as sandbox:
        yield sandbox.base_url


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, ["integration", *args], env=env)


def _add_whatsapp(base_url: str, token: str = CREDS.whatsapp_access_token) -> Result:
    return _run(
        "add",
        "whatsapp",
        "clinic-whatsapp",
        "--set",
        f"graph_base_url={base_url}",
        "--set",
        f"phone_number_id={CREDS.whatsapp_phone_number_id}",
        "--set",
        f"waba_id={CREDS.whatsapp_business_account_id}",
        "--set",
        f"app_secret={CREDS.whatsapp_app_secret}",
        "--set",
        "webhook_verify_token=verify-token-0123456789",
        "--set-env",
        "access_token=WA_TOKEN",
        "--json",
        env={"WA_TOKEN": token},
    )


def test_add_masks_secrets_and_test_records_health(sandbox_url: str) -> None:
    added = _add_whatsapp(sandbox_url)
    assert added.exit_code == 0, added.output
    shown = json.loads(added.stdout)
    assert shown["settings"]["access_token"] == "********"
    assert CREDS.whatsapp_access_token not in added.output
    assert CREDS.whatsapp_app_secret not in added.output
    assert shown["active"] is True and shown["health"] == "unknown"

    tested = _run("test", "clinic-whatsapp")
    assert tested.exit_code == 0, tested.output
    assert "connected" in tested.stdout and "not connected" not in tested.stdout

    listed = _run("list")
    assert "clinic-whatsapp" in listed.stdout and "healthy" in listed.stdout
    assert CREDS.whatsapp_access_token not in _run("show", "clinic-whatsapp").output

    herald = Herald.create(load_settings())
    try:
        with herald.sessions() as session:
            view = herald.integrations.find_by_name(session, "clinic-whatsapp")
            assert view is not None and view.health == "healthy"
            stored = herald.integrations.provider_settings(session, view.id)
            assert stored.access_token.get_secret_value() == CREDS.whatsapp_access_token  # type: ignore[attr-defined]
    finally:
        herald.close()


def test_a_wrong_token_fails_the_test_with_the_provider_reason(sandbox_url: str) -> None:
    assert _add_whatsapp(sandbox_url, token="not-the-token").exit_code == 0
    tested = _run("test", "clinic-whatsapp", "--json")
    assert tested.exit_code == 1
    answer = json.loads(tested.stdout)
    assert answer["connected"] is False and answer["reason"]
    shown = json.loads(_run("show", "clinic-whatsapp", "--json").stdout)
    assert shown["health"] == "unhealthy" and shown["health_reason"] == answer["reason"]


def test_update_keeps_secrets_and_deactivate_activate(sandbox_url: str) -> None:
    assert _add_whatsapp(sandbox_url).exit_code == 0
    updated = _run("update", "clinic-whatsapp", "--rate", "20", "--json")
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.stdout)["rate_limit_per_second"] == 20
    assert _run("test", "clinic-whatsapp").exit_code == 0  # the token survived the update
    assert "inactive" in _run("deactivate", "clinic-whatsapp").stdout
    assert json.loads(_run("show", "clinic-whatsapp", "--json").stdout)["active"] is False
    assert "is active" in _run("activate", "clinic-whatsapp").stdout


def test_bad_input_is_named_and_nothing_is_stored() -> None:
    missing = _run("add", "whatsapp", "x", "--set", "graph_base_url=http://127.0.0.1:9")
    assert missing.exit_code == 1
    assert "phone_number_id" in missing.output
    assert _run("list").stdout.startswith("No integrations")
    assert _run("show", "nope").exit_code == 3
    unknown_kind = _run("add", "pigeon", "x")
    assert unknown_kind.exit_code == 2 and "pigeon" in unknown_kind.output


def test_a_taken_name_is_a_conflict(sandbox_url: str) -> None:
    assert _add_whatsapp(sandbox_url).exit_code == 0
    again = _add_whatsapp(sandbox_url)
    assert again.exit_code == 4 and "already exists" in again.output


def test_settings_merge_file_then_pairs_then_environment(tmp_path: Path) -> None:
    file = tmp_path / "wa.yaml"
    file.write_text("phone_number_id: '1'\nwaba_id: '2'\n", encoding="utf-8")
    merged = collect_settings(["waba_id=3"], ["access_token=TOKEN"], file, {"TOKEN": "t"})
    assert merged == {"phone_number_id": "1", "waba_id": "3", "access_token": "t"}
    with pytest.raises(ValidationError, match="KEY=VALUE"):
        collect_settings(["novalue"], [], None, {})
    with pytest.raises(ValidationError, match="MISSING is not set"):
        collect_settings([], ["access_token=MISSING"], None, {})
    (tmp_path / "list.yaml").write_text("- a\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="mapping"):
        collect_settings([], [], tmp_path / "list.yaml", {})
    (tmp_path / "bad.yaml").write_text("a: [", encoding="utf-8")
    with pytest.raises(UnreadableFileError):
        collect_settings([], [], tmp_path / "bad.yaml", {})


def test_templates_lists_the_whatsapp_accounts_templates(sandbox_url: str) -> None:
    assert _add_whatsapp(sandbox_url).exit_code == 0
    listed = _run("templates", "clinic-whatsapp", "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert data["error"] is None
    by_key = {(item["name"], item["language"]): item for item in data["templates"]}
    assert by_key["appointment_reminder", "es"]["body_parameters"] == 2
    assert by_key["spring_sale", "en"]["status"] == "PAUSED"
    table = _run("templates", "clinic-whatsapp", "--refresh")
    assert table.exit_code == 0, table.output
    assert "appointment_reminder" in table.stdout and "APPROVED" in table.stdout


def test_templates_that_cannot_be_fetched_fail_with_the_reason(sandbox_url: str) -> None:
    assert _add_whatsapp(sandbox_url, token="a-wrong-token").exit_code == 0
    failed = _run("templates", "clinic-whatsapp")
    assert failed.exit_code == 1
    assert "WhatsApp error 190" in failed.output
    assert _run("templates", "no-such-integration").exit_code == 3
