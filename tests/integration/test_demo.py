"""``herald demo``, the README's main job, end to end on a small audience."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from herald.cli.main import app

CONTACTS = 40


def test_the_demo_sends_every_contact_once_and_reports_sent(tmp_path: Path) -> None:
    options = ["--contacts", str(CONTACTS), "--seconds-per-day", "1", "--timeout", "240"]
    result = CliRunner().invoke(app, ["demo", *options, "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "sent"
    assert report["contacts"] == CONTACTS
    assert sum(report["outcomes"].values()) == CONTACTS
    assert report["messages_by_channel"].get("whatsapp", 0) > 0
    assert report["sandbox"]["duplicate_keys"] == 0
    assert report["sandbox"]["webhooks_failed"] == 0

    with sqlite3.connect(tmp_path / "herald.db") as db:
        statuses = dict(db.execute("SELECT status, count(*) FROM messages GROUP BY status"))
        missing_ids = db.execute(
            "SELECT count(*) FROM messages WHERE status IN ('accepted', 'delivered', 'read')"
            " AND provider_message_id IS NULL"
        ).fetchone()[0]
    # Leases are meant in real time: on the demo's sped-up clock no send may be
    # taken over while its provider call is still out (which leaves it unknown).
    assert statuses.get("unknown", 0) == 0, statuses
    assert missing_ids == 0
