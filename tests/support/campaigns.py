"""Campaign specs and audiences for builder, apply and CLI tests.

The spec is the appointment reminder of ``docs/campaign-spec.md`` on the
integrations :class:`tests.support.engine.EngineHarness` creates
(``clinic-whatsapp``, ``clinic-sms``) and the seed example's columns.
"""

from __future__ import annotations

import shutil
from pathlib import Path

SAMPLES_DIR = Path(__file__).parents[1] / "fixtures" / "samples"
SEED_CSV = SAMPLES_DIR / "seed-example.csv"
"""3 contacts (rows 2-4); row 4's phone is invalid, so 2 have a phone, all 3 an email."""

REMINDER_SPEC = """\
name: <name>
tags: [reminders, clinic-north]
audience: seed-example.csv
default_region: US
journey:
  primary:
    integration:
      name: clinic-whatsapp
      kind: whatsapp
    content:
      type: whatsapp_template
      name: appointment_reminder
      language: en_US
      body:
        - column: name
          default: there
        - column: appointment_date
  fallbacks:
    - integration:
        name: clinic-sms
        kind: infobip_sms
      content:
        type: sms
        text: |
          Hi {{ name | there }}, this is a reminder of your appointment on {{ appointment_date }}.
          Reply YES to confirm.
      delivery_window_minutes: 240
  follow_up:
    delay_days: <delay_days>
    integration:
      name: clinic-sms
      kind: infobip_sms
    content:
      type: sms
      text: Hi {{ name | there }}, can you still make it on {{ appointment_date }}?
"""


def reminder_spec(name: str = "Appointment reminders", *, delay_days: int = 2) -> str:
    return REMINDER_SPEC.replace("<name>", name).replace("<delay_days>", str(delay_days))


def write_spec(directory: Path, text: str, *, filename: str = "campaign.yaml") -> Path:
    """The spec at ``directory/filename`` with the seed example beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "seed-example.csv"
    if not target.exists():
        shutil.copyfile(SEED_CSV, target)
    path = directory / filename
    path.write_text(text, encoding="utf-8")
    return path
