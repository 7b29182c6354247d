"""A scheduled campaign whose start passes while every worker is down.

The campaign is scheduled, then its start time passes with no worker
running (the set-up runs on a clock an hour behind, so "later" is already
"past" for the real clock): nothing happens, and readiness says no worker is
alive. The first ``herald worker`` that comes back starts it and sends to
everyone, once.
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from herald.channels.sandbox.process import ProcessSandbox
from herald.channels.sandbox.scenario import Scenario
from herald.clock import SystemClock
from herald.services.campaigns import CampaignServices
from herald.services.container import Herald
from herald.services.readiness import check_readiness
from herald.store.journeys import JOURNEYS
from herald.testing import FakeClock
from tests.reliability.conftest import Report, Scale
from tests.reliability.stack import (
    WorkerProcess,
    add_integrations,
    campaign_status,
    create_herald,
    draft_campaign,
    messages_by_status,
    wait_for,
    whatsapp_then_sms,
)

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.slow]


def test_a_start_missed_while_workers_were_down_happens_when_one_returns(
    pg_url: str, tmp_path: Path, scale: Scale, report: Report
) -> None:
    real_now = datetime.now(UTC)
    setup_clock = FakeClock(real_now - timedelta(hours=1))
    start_local = (real_now - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    herald = create_herald(pg_url, tmp_path, setup_clock)
    try:
        with ProcessSandbox(Scenario(seed=3)) as sandbox:
            add_integrations(
                herald,
                whatsapp_url=sandbox.base_url,
                sms_url=sandbox.base_url,
                herald_url="http://127.0.0.1:9",
            )
            campaign = draft_campaign(herald, scale.contacts, whatsapp_then_sms())
            with herald.sessions() as session:
                CampaignServices(setup_clock).schedule(
                    session, campaign, local=start_local, timezone="UTC"
                )
            # The start has passed on the real clock and no worker runs.
            time.sleep(1.0)
            assert campaign_status(herald, campaign) == "scheduled"
            assert _journeys(herald, campaign) == 0
            readiness = check_readiness(herald.engine, herald.sessions, SystemClock())
            assert readiness.failed == ["workers"]

            worker = WorkerProcess(pg_url, tmp_path, tmp_path / "worker.log")
            try:
                started_in = wait_for(
                    lambda: campaign_status(herald, campaign) == "running",
                    timeout=60,
                    what="the returning worker to start the campaign",
                )
                phoned = scale.contacts - (scale.contacts + 24) // 25
                sent_in = wait_for(
                    lambda: messages_by_status(herald, campaign).get("accepted", 0) >= phoned,
                    timeout=120,
                    what="every contact with a phone to get the first message",
                )
                worker.signal(signal.SIGTERM)
                assert worker.wait(timeout=60) == 0, worker.log_text()[-2000:]
            finally:
                worker.stop()
            summary = sandbox.summary()
            journeys = _journeys(herald, campaign)
    finally:
        herald.close()
    assert journeys == scale.contacts
    assert summary["duplicate_keys"] == 0
    assert summary["accepted"] == phoned
    report.add(
        "scheduled_start_with_workers_down",
        {
            "contacts": scale.contacts,
            "start_missed_by_minutes": 30,
            "seconds_from_worker_start_to_running": round(started_in, 1),
            "seconds_until_all_first_messages_accepted": round(started_in + sent_in, 1),
            "steps_delivered_twice": summary["duplicate_keys"],
        },
    )


def _journeys(herald: Herald, campaign_id: int) -> int:
    with herald.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(JOURNEYS)
                .where(JOURNEYS.c.campaign_id == campaign_id)
            )
            or 0
        )
