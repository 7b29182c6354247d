"""``herald campaign ...`` through the command line runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from herald.cli.main import app
from herald.domain.spec import parse_spec
from herald.services.container import Herald
from herald.settings import load_settings
from tests.support.campaigns import reminder_spec, write_spec
from tests.support.engine import INFOBIP, WHATSAPP

runner = CliRunner()


@pytest.fixture(autouse=True)
def herald_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    """Settings from the environment, as a user has them, and the two integrations."""
    monkeypatch.setenv("HERALD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HERALD_DATABASE_URL", database_url)
    monkeypatch.setenv("HERALD_DEFAULT_REGION", "US")
    monkeypatch.setenv("COLUMNS", "200")
    herald = Herald.create(load_settings())
    try:
        with herald.sessions() as session:
            herald.integrations.create(
                session, name="clinic-whatsapp", kind="whatsapp", settings=WHATSAPP
            )
            herald.integrations.create(
                session, name="clinic-sms", kind="infobip_sms", settings=INFOBIP
            )
    finally:
        herald.close()


def _run(*args: str) -> Result:
    return runner.invoke(app, ["campaign", *args])


def _apply(spec_file: Path, *extra: str) -> Result:
    result = _run("apply", str(spec_file), *extra)
    assert result.exit_code == 0, result.output
    return result


def test_apply_review_export_and_apply_again_without_changes(tmp_path: Path) -> None:
    spec_file = write_spec(tmp_path / "specs", reminder_spec())
    dry = _apply(spec_file, "--dry-run")
    assert "Would create campaign Appointment reminders." in dry.stdout
    assert "Would import seed-example.csv as a new audience." in dry.stdout
    assert "No campaigns" not in _run("list").stdout
    assert "Appointment" not in _run("list").stdout
    created = _apply(spec_file)
    assert "Created campaign 1 Appointment reminders." in created.stdout
    assert '+ journey.follow_up: sms step via "clinic-sms" after 2 days' in created.stdout
    assert "Imported audience" in created.stdout and "3 contacts" in created.stdout
    assert "Coverage" in created.stdout
    review = _run("review", "1")
    assert review.exit_code == 0, review.output
    for expected in ("3 contacts, 2 with a phone", "{{appointment_date}}", "Herald default v1"):
        assert expected in review.stdout
    assert "Ready to launch." in review.stdout
    exported = tmp_path / "out" / "campaign.yaml"
    written = _run("export", "1", "-o", str(exported))
    assert written.exit_code == 0, written.output
    assert "audience: ../specs/seed-example.csv" in exported.read_text(encoding="utf-8")
    again = _apply(exported)
    assert "Campaign 1 Appointment reminders: no changes." in again.stdout
    # On stdout, the audience path is relative to the current directory.
    printed = parse_spec(_run("export", "1").stdout)
    assert printed.audience == os.path.relpath(tmp_path / "specs" / "seed-example.csv")
    assert printed.model_copy(update={"audience": None}) == parse_spec(
        exported.read_text(encoding="utf-8")
    ).model_copy(update={"audience": None})


def test_apply_with_changes_prints_the_diff(tmp_path: Path) -> None:
    spec_file = write_spec(tmp_path, reminder_spec())
    _apply(spec_file)
    spec_file.write_text(reminder_spec(delay_days=5).replace("clinic-north", "clinic-south"))
    dry = _apply(spec_file, "--dry-run")
    assert "Would update campaign 1 Appointment reminders:" in dry.stdout
    assert '~ tags: ["reminders", "clinic-north"] → ["reminders", "clinic-south"]' in dry.stdout
    assert "~ journey.follow_up.delay_days: 2 → 5" in dry.stdout
    applied = _apply(spec_file)
    assert "Updated campaign 1" in applied.stdout
    assert "no changes" in _apply(spec_file).stdout


def test_review_json_and_preview(tmp_path: Path) -> None:
    _apply(write_spec(tmp_path, reminder_spec()))
    review = _run("review", "1", "--json")
    assert review.exit_code == 0
    data = json.loads(review.stdout)
    assert data["audience"]["total"] == 3
    assert [step["key"] for step in data["flow"]] == ["primary", "fallback-1", "follow-up"]
    assert data["estimate"]["channels"][1] == {"channel": "sms", "best": 0, "worst": 4}
    preview = _run("preview", "1", "--step", "fallback-1", "--contact", "3")
    assert preview.exit_code == 0, preview.output
    assert "Hi Jamie Shaw, this is a reminder of your appointment on 2024-09-13." in preview.stdout
    assert "1 segment(s), GSM-7, 91 units" in preview.stdout
    as_json = json.loads(_run("preview", "1", "--contact", "4", "--json").stdout)
    assert (as_json["would_skip"], as_json["missing_field"]) == (True, "phone")


def test_launch_at_a_local_time_then_unschedule_and_send_now(tmp_path: Path) -> None:
    _apply(write_spec(tmp_path, reminder_spec()))
    gap = _run("launch", "1", "--at", "2099-03-29 02:30", "--tz", "Europe/Berlin")
    assert gap.exit_code == 1
    assert "does not exist in Europe/Berlin" in gap.stderr
    overlap = _run("launch", "1", "--at", "2099-10-25 02:30", "--tz", "Europe/Berlin")
    assert overlap.exit_code == 1 and "ambiguous" in overlap.stderr
    scheduled = _run(
        "launch", "1", "--at", "2099-10-25 02:30", "--tz", "Europe/Berlin", "--utc-offset", "+01:00"
    )
    assert scheduled.exit_code == 0, scheduled.output
    assert "2099-10-25 02:30 Europe/Berlin (2099-10-25 01:30 UTC)" in scheduled.stdout
    assert "scheduled" in _run("list", "--status", "scheduled").stdout
    assert _run("unschedule", "1").stdout.strip() == "Campaign 1 is now draft."
    listed = json.loads(_run("list", "--json", "--tag", "clinic-north").stdout)
    assert [(item["id"], item["status"], item["start_at"]) for item in listed] == [
        (1, "draft", None)
    ]
    sent = _run("launch", "1")
    assert sent.stdout.strip() == "Campaign 1 is running: 3 contacts."
    shown_json = json.loads(_run("show", "1", "--json").stdout)
    assert (shown_json["status"], shown_json["contact_count"]) == ("running", 3)
    assert shown_json["allowed_actions"] == ["pause", "cancel"]
    progress = _run("progress", "1")
    assert "0 of 3 contacts done" in progress.stdout
    shown = _run("show", "1")
    assert "pause, cancel" in shown.stdout and "contacts done" in shown.stdout
    assert _run("pause", "1").stdout.strip() == "Campaign 1 is now paused."
    assert _run("cancel", "1").stdout.strip() == "Campaign 1 is now cancelled."
    watched = _run("progress", "1", "--watch", "--interval", "0.1")
    assert watched.exit_code == 0 and "(cancelled)" in watched.stdout


def test_errors_map_to_messages_and_exit_codes(tmp_path: Path) -> None:
    missing = _run("review", "7")
    assert (missing.exit_code, missing.stderr.strip()) == (
        3,
        "error (not_found): campaign 7 does not exist",
    )
    spec_file = write_spec(tmp_path, reminder_spec().replace("clinic-sms", "old-sms"))
    _apply(spec_file)
    blocked = _run("launch", "1", "--now")
    assert blocked.exit_code == 1
    assert "error (checks_failed): campaign 1 cannot launch:" in blocked.stderr
    assert blocked.stderr.count("no integration is named 'old-sms'") == 2  # fallback, follow-up
    review = _run("review", "1")
    assert review.exit_code == 1 and "Cannot launch: 2 blocking" in review.stdout
    illegal = _run("pause", "1")
    assert illegal.exit_code == 4
    assert "cannot pause a draft campaign; a draft campaign can: schedule, launch" in illegal.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\ntags: [Clinic North]\njourney:\n  primary: {}\n  extra: 1\n")
    refused = _run("apply", str(bad))
    assert refused.exit_code == 1
    assert "problems:" in refused.stderr
    assert "tags[0] (line 2): tag 'Clinic North'" in refused.stderr
    assert "journey.extra (line 5): unknown key" in refused.stderr
    unreadable = _run("apply", str(tmp_path / "nope.yaml"))
    assert unreadable.exit_code == 2
    both = _run("launch", "1", "--at", "2099-01-01 09:00")
    assert both.exit_code == 1 and "--at and --tz together" in both.stderr
