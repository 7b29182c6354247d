"""Webhook storms: every status three times, out of order, some before the send's answer.

The sandbox posts its webhooks to a :class:`WebhookStorm`, which answers it at
once and delivers each webhook to Herald three times, shuffled over a second;
WhatsApp's answers to sends are held back by a :class:`FaultProxy`, so
statuses (and quick replies) reach Herald while it still waits for the
answer. Some messages fail (SMS fallback), some people reply at once.
Every contact must still end with exactly one outcome, each event must be
stored once, and no step may be sent twice.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from herald.channels.sandbox.process import ProcessSandbox
from herald.channels.sandbox.scenario import ChannelScenario, Scenario
from herald.cli.server import running_herald
from herald.clock import CompressedClock
from herald.engine.journeys import DEFAULT_LEASE
from herald.services.container import Herald
from herald.store.inbox import ProviderEventRow
from tests.reliability.conftest import Report, Scale
from tests.reliability.faults import FaultProxy, Mode, WebhookStorm
from tests.reliability.stack import (
    add_integrations,
    campaign_status,
    create_herald,
    draft_campaign,
    invariants,
    launch,
    log_kinds,
    whatsapp_then_sms,
)

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.slow]
SPEEDUP = 20.0
ANSWER_HELD_SECONDS = 0.4


def test_webhook_storm_keeps_one_outcome_per_contact(
    pg_url: str, tmp_path: Path, scale: Scale, report: Report
) -> None:
    herald = create_herald(pg_url, tmp_path, CompressedClock(SPEEDUP))
    try:
        figures = asyncio.run(_run_storm(herald, scale))
    finally:
        herald.close()
    report.add("webhook_storm", figures)


async def _run_storm(herald: Herald, scale: Scale) -> dict[str, Any]:
    lease = DEFAULT_LEASE * SPEEDUP
    quick = {"delivery_delay_seconds": 0.0, "reply_delay_seconds": 0.0}
    async with running_herald(herald, host="127.0.0.1", port=0, lease=lease) as running:
        with WebhookStorm(running.url, copies=3, spread_seconds=1.0) as storm:
            scenario = Scenario(
                seed=21,
                time_compression=SPEEDUP,
                webhook_base_url=storm.base_url,
                whatsapp=ChannelScenario(
                    fail_rate=0.3, fail_codes=["131049"], reply_rate=0.2, **quick
                ),
                sms=ChannelScenario(reply_rate=0.2, **quick),
            )
            with (
                ProcessSandbox(scenario) as sandbox,
                FaultProxy(sandbox.base_url, hold_seconds=ANSWER_HELD_SECONDS) as proxy,
            ):
                proxy.mode = Mode.SLOW
                await asyncio.to_thread(
                    add_integrations,
                    herald,
                    whatsapp_url=proxy.base_url,
                    sms_url=sandbox.base_url,
                    herald_url=storm.base_url,  # Infobip's delivery reports too
                    whatsapp_timeout_seconds=10,
                )
                campaign = await asyncio.to_thread(
                    draft_campaign, herald, scale.contacts, whatsapp_then_sms()
                )
                started = time.monotonic()
                await asyncio.to_thread(launch, herald, campaign)
                await _until_sent(herald, campaign, 240)
                seconds = time.monotonic() - started
                await asyncio.to_thread(storm.drain)
                await asyncio.sleep(1.0)  # the last copies' events are routed
                result = await asyncio.to_thread(invariants, herald, campaign, sandbox)
                timeline = await asyncio.to_thread(log_kinds, herald, campaign)
                stored = await asyncio.to_thread(_stored_events, herald)
    result.assert_hold()
    copies = sum(storm.delivered.values())
    assert copies == 3 * storm.received
    assert all(status < 500 for status in storm.delivered), storm.delivered
    # Three copies of every webhook, one stored event for each.
    assert stored == storm.received
    assert timeline.get("sent", 0) <= result.sandbox_accepted
    assert result.outcomes_in_db.get("replied", 0) > 0
    assert timeline.get("rejected", 0) == 0
    return result.figures() | {
        "webhooks_from_sandbox": storm.received,
        "webhook_copies_delivered": copies,
        "herald_answers": {str(k): v for k, v in sorted(storm.delivered.items())},
        "events_stored": stored,
        "late_or_duplicate_events_ignored": timeline.get("late", 0),
        "seconds_to_sent": round(seconds, 1),
    }


async def _until_sent(herald: Herald, campaign: int, within_seconds: float) -> None:
    deadline = time.monotonic() + within_seconds
    while (status := await asyncio.to_thread(campaign_status, herald, campaign)) != "sent":
        if time.monotonic() > deadline:
            raise AssertionError(f"campaign still {status} after {within_seconds} s")
        await asyncio.sleep(0.2)


def _stored_events(herald: Herald) -> int:
    with herald.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ProviderEventRow)) or 0)
