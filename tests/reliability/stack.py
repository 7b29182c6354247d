"""A whole Herald against the provider sandbox, and the invariants every fault keeps.

The fault and load suites build the same thing the demo builds (integrations
pointing at a sandbox over HTTP, a generated audience, a WhatsApp → SMS
journey) on a test database, run real workers (in this process or as
``herald worker`` processes), then check what must hold whatever happened:

* every contact ends with exactly one outcome;
* the sandbox, the independent witness, accepted no correlation key (one
  journey step of one contact) twice;
* the counts Herald shows (campaign counters, what the UI and API read)
  equal the counts in the journeys table.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from herald.channels.sandbox.process import ProcessSandbox
from herald.clock import Clock
from herald.services.audiences import import_audience
from herald.services.campaigns import CampaignServices
from herald.services.container import Herald
from herald.services.demo import demo_csv, integration_settings
from herald.settings import Settings
from herald.store.journeys import JOURNEY_LOG, JOURNEYS, MESSAGES

REPO = Path(__file__).parents[2]
SMS_TEXT = "Hi {{name|there}}, a reminder of your appointment on {{appointment_date}}."


def whatsapp_then_sms(*, window_minutes: int = 24 * 60, follow_up_days: int | None = None) -> Any:
    """The demo's first two steps: a WhatsApp template, an SMS when it does not deliver."""
    journey: dict[str, Any] = {
        "primary": {
            "integration": {"name": "demo-whatsapp", "kind": "whatsapp"},
            "content": {
                "type": "whatsapp_template",
                "name": "appointment_reminder",
                "language": "en",
                "body": [{"column": "name", "default": "there"}, {"column": "appointment_date"}],
            },
            "delivery_window_minutes": window_minutes,
        },
        "fallbacks": [
            {
                "integration": {"name": "demo-sms", "kind": "infobip_sms"},
                "content": {"type": "sms", "text": SMS_TEXT},
                "delivery_window_minutes": window_minutes,
            }
        ],
    }
    if follow_up_days is not None:
        journey["follow_up"] = {
            "delay_days": follow_up_days,
            "integration": {"name": "demo-sms", "kind": "infobip_sms"},
            "content": {"type": "sms", "text": "Still coming, {{name|there}}?"},
        }
    return journey


def create_herald(database_url: str, data_dir: Path, clock: Clock | None = None) -> Herald:
    return Herald.create(Settings(database_url=database_url, data_dir=data_dir), clock)


def add_integrations(
    herald: Herald,
    *,
    whatsapp_url: str,
    sms_url: str,
    herald_url: str,
    rate_per_second: float = 5000,
    whatsapp_timeout_seconds: float = 30.0,
) -> None:
    """The demo's WhatsApp and SMS integrations; each may point at its own address
    (a fault proxy in front of the sandbox, or the sandbox itself)."""
    settings = integration_settings(whatsapp_url, herald_url)
    whatsapp = settings["demo-whatsapp"][1] | {
        "rate_limit_per_second": rate_per_second,
        "request_timeout_seconds": whatsapp_timeout_seconds,
    }
    sms = integration_settings(sms_url, herald_url)["demo-sms"][1] | {
        "rate_limit_per_second": rate_per_second
    }
    with herald.sessions() as session:
        herald.integrations.create(
            session, name="demo-whatsapp", kind="whatsapp", settings=whatsapp
        )
        herald.integrations.create(session, name="demo-sms", kind="infobip_sms", settings=sms)


def draft_campaign(herald: Herald, contacts: int, journey: Any, *, seed: int = 11) -> int:
    """A draft campaign to ``contacts`` generated people (a few have only an email)."""
    imported = import_audience(
        herald.engine,
        io.BytesIO(demo_csv(contacts, seed).encode()),
        name="Reliability audience",
        filename="reliability.csv",
        clock=herald.clock,
        default_region="US",
    )
    with herald.sessions() as session:
        view = CampaignServices(herald.clock).create_draft(
            session,
            name=f"Reliability {time.monotonic_ns()}",
            audience_id=int(imported.audience.id),
            journey=journey,
        )
    return int(view.id)


def launch(herald: Herald, campaign_id: int) -> int:
    with herald.sessions() as session:
        return CampaignServices(herald.clock).launch(session, campaign_id).contact_count


def campaign_status(herald: Herald, campaign_id: int) -> str:
    with herald.sessions() as session:
        return CampaignServices(herald.clock).get(session, campaign_id).status.value


def wait_for(
    condition: Callable[[], bool], *, timeout: float, interval: float = 0.2, what: str
) -> float:
    """Poll ``condition`` until it holds; return the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - started


@dataclass
class Invariants:
    """What the end state of a campaign says; :meth:`assert_hold` checks the promises."""

    contacts: int
    journeys: int
    outcomes_in_db: dict[str, int]
    outcomes_shown: dict[str, int]
    journeys_without_outcome: int
    sandbox_accepted: int
    duplicate_keys: dict[str, int]
    messages_by_status: dict[str, int]
    herald_keys_sent: int
    extra: dict[str, Any] = field(default_factory=dict)

    def assert_hold(self) -> None:
        assert self.journeys == self.contacts
        assert self.journeys_without_outcome == 0, self.outcomes_in_db
        assert sum(self.outcomes_in_db.values()) == self.contacts
        assert self.outcomes_shown == self.outcomes_in_db, "UI counts differ from the database"
        assert self.duplicate_keys == {}, f"steps delivered twice: {self.duplicate_keys}"
        assert self.messages_by_status.get("pending", 0) == 0

    def figures(self) -> dict[str, Any]:
        return {
            "contacts": self.contacts,
            "outcomes": self.outcomes_in_db,
            "sandbox_accepted": self.sandbox_accepted,
            "steps_delivered_twice": len(self.duplicate_keys),
            "messages_unknown": self.messages_by_status.get("unknown", 0),
        } | self.extra


def invariants(herald: Herald, campaign_id: int, sandbox: ProcessSandbox) -> Invariants:
    log = sandbox.get("/_sandbox/log")
    sends = log["sends"]
    keys = Counter(send["correlation_key"] for send in sends if send["correlation_key"])
    with herald.sessions() as session:
        progress = CampaignServices(herald.clock).progress(session, campaign_id)
        rows = session.execute(
            select(JOURNEYS.c.outcome, func.count())
            .where(JOURNEYS.c.campaign_id == campaign_id)
            .group_by(JOURNEYS.c.outcome)
        ).all()
        statuses = session.execute(
            select(MESSAGES.c.status, func.count())
            .where(MESSAGES.c.campaign_id == campaign_id)
            .group_by(MESSAGES.c.status)
        ).all()
        herald_keys = session.scalar(
            select(func.count())
            .select_from(MESSAGES)
            .where(MESSAGES.c.campaign_id == campaign_id, MESSAGES.c.status != "rejected")
        )
    by_outcome = {outcome: count for outcome, count in rows}
    return Invariants(
        contacts=progress.campaign.contact_count,
        journeys=sum(by_outcome.values()),
        outcomes_in_db={k: v for k, v in by_outcome.items() if k is not None},
        outcomes_shown=progress.outcomes,
        journeys_without_outcome=by_outcome.get(None, 0),
        sandbox_accepted=len(sends),
        duplicate_keys={key: count for key, count in keys.items() if count > 1},
        messages_by_status=dict(statuses),
        herald_keys_sent=int(herald_keys or 0),
        extra={"sandbox_webhooks_failed": log["summary"].get("webhooks_failed", 0)},
    )


def messages_by_status(herald: Herald, campaign_id: int) -> dict[str, int]:
    with herald.sessions() as session:
        rows = session.execute(
            select(MESSAGES.c.status, func.count())
            .where(MESSAGES.c.campaign_id == campaign_id)
            .group_by(MESSAGES.c.status)
        ).all()
    return {status: count for status, count in rows}


class WorkerProcess:
    """``herald worker`` in its own process, as an operator runs it."""

    def __init__(self, database_url: str, data_dir: Path, log_path: Path, **env: str) -> None:
        self.log_path = log_path
        environment = os.environ | {
            "HERALD_DATABASE_URL": database_url,
            "HERALD_DATA_DIR": str(data_dir),
            "HERALD_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
        environment.update(env)
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "herald", "worker"],
            cwd=data_dir,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is not None:
                self._log.close()

    def stop(self) -> None:
        """Make sure the process is gone (test clean-up)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def log_kinds(herald: Herald, campaign_id: int) -> dict[str, int]:
    """Timeline entries by kind: what the user sees happened to the contacts."""
    with herald.sessions() as session:
        rows = session.execute(
            select(JOURNEY_LOG.c.kind, func.count())
            .where(JOURNEY_LOG.c.campaign_id == campaign_id)
            .group_by(JOURNEY_LOG.c.kind)
        ).all()
    return {kind: count for kind, count in rows}
