"""A provider that fails, throttles, times out or goes down while a campaign runs.

Herald (web and workers) runs against the sandbox over HTTP; WhatsApp, the
primary step, goes through a :class:`FaultProxy` that is faulty for the
first part of the campaign and healthy after. For every fault:

* sending slows down and resumes: nothing reaches WhatsApp during the
  outage, everything after it;
* no contact is failed for the outage: nobody falls back to SMS or ends
  undeliverable because WhatsApp was down (a timeout is different: the
  answer is lost, the send is recorded as "unknown" and never repeated);
* the integration's health shows the fault while it lasts, with the reason,
  and ``/readyz`` names it; it is healthy again after;
* every contact ends with exactly one outcome, the UI counts equal the
  database, and the sandbox accepted no journey step twice.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from herald.channels.sandbox.process import ProcessSandbox
from herald.channels.sandbox.scenario import Scenario
from herald.cli.server import running_herald
from herald.clock import CompressedClock
from herald.engine.journeys import DEFAULT_LEASE
from herald.services.container import Herald
from tests.reliability.conftest import Report, Scale
from tests.reliability.faults import FaultProxy, Mode
from tests.reliability.stack import (
    add_integrations,
    campaign_status,
    create_herald,
    draft_campaign,
    invariants,
    launch,
    log_kinds,
    messages_by_status,
    whatsapp_then_sms,
)

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.slow]
# Herald's clock runs this much faster, so its 30 s retry backoff takes 1.5 s,
# and a delivery window of 20 minutes (a status that never came) one minute.
SPEEDUP = 20.0
TIMEOUT_SECONDS = 1.0  # Herald's WhatsApp request timeout in the timeout case


@pytest.mark.parametrize(
    ("mode", "expected_health"),
    [
        (Mode.HTTP_503, "unhealthy"),
        (Mode.HTTP_429, "degraded"),
        (Mode.DOWN, "unhealthy"),
        (Mode.TIMEOUT, "unhealthy"),
    ],
)
def test_provider_fault_slows_sending_and_fails_no_contact(
    pg_url: str, tmp_path: Path, scale: Scale, report: Report, mode: Mode, expected_health: str
) -> None:
    herald = create_herald(pg_url, tmp_path, CompressedClock(SPEEDUP))
    try:
        figures = asyncio.run(_run_fault(herald, scale, mode, expected_health))
    finally:
        herald.close()
    report.add(f"provider_{mode.value}", figures)


async def _run_fault(
    herald: Herald, scale: Scale, mode: Mode, expected_health: str
) -> dict[str, Any]:
    lease = DEFAULT_LEASE * SPEEDUP
    async with running_herald(herald, host="127.0.0.1", port=0, lease=lease) as running:
        scenario = Scenario(seed=9, time_compression=SPEEDUP, webhook_base_url=running.url)
        with (
            ProcessSandbox(scenario) as sandbox,
            FaultProxy(sandbox.base_url, hold_seconds=TIMEOUT_SECONDS * 3) as proxy,
        ):
            await asyncio.to_thread(
                add_integrations,
                herald,
                whatsapp_url=proxy.base_url,
                sms_url=sandbox.base_url,
                herald_url=running.url,
                # A short timeout only where answers are lost on purpose: elsewhere a
                # loaded sandbox answering late would add lost answers of its own.
                whatsapp_timeout_seconds=TIMEOUT_SECONDS if mode is Mode.TIMEOUT else 30.0,
            )
            campaign = await asyncio.to_thread(
                draft_campaign, herald, scale.contacts, whatsapp_then_sms(window_minutes=20)
            )
            proxy.mode = mode
            started = time.monotonic()
            await asyncio.to_thread(launch, herald, campaign)

            seen = await _poll(
                lambda: _health(herald), lambda health: health[0] == expected_health, 60
            )
            readiness = await asyncio.to_thread(_readyz, running.url)
            await asyncio.sleep(max(0.0, scale.outage_seconds - (time.monotonic() - started)))
            during = await asyncio.to_thread(_whatsapp_accepted, sandbox)
            statuses_during = await asyncio.to_thread(messages_by_status, herald, campaign)
            proxy.mode = Mode.PASS
            recovered_at = time.monotonic()

            await _poll(
                lambda: campaign_status(herald, campaign), lambda status: status == "sent", 180
            )
            finished_at = time.monotonic()
            # Health changes with the next answer to a send; after lost answers
            # every contact already had its one send, so none comes to clear it.
            if mode is not Mode.TIMEOUT:
                healthy = await _poll(lambda: _health(herald), lambda h: h[0] == "healthy", 30)
                assert healthy[1] is None
            await asyncio.sleep(0.5)  # late webhooks settle
            result = await asyncio.to_thread(invariants, herald, campaign, sandbox)
            timeline = await asyncio.to_thread(log_kinds, herald, campaign)
    result.assert_hold()
    assert seen[1] is not None  # the reason the user sees
    email_only = scale.contacts // 25 + (1 if scale.contacts % 25 else 0)
    phoned = scale.contacts - email_only
    if mode is Mode.TIMEOUT:
        # Answers were lost, so those sends were "unknown": never repeated, and
        # the statuses the provider sent for them still completed the journeys.
        assert timeline.get("unknown", 0) == phoned
        assert result.sandbox_accepted == phoned
        assert readiness["failed"] == ["integrations"]
    else:
        assert during == 0, "nothing reaches the provider while it is failing"
        assert statuses_during.get("retry_wait", 0) > 0
        assert timeline.get("unknown", 0) == 0
        assert timeline.get("retry", 0) > 0  # each throttled attempt, with its code
        if expected_health == "unhealthy":
            assert readiness["failed"] == ["integrations"]
            assert readiness["checks"]["integrations"].startswith("demo-whatsapp: provider")
        else:
            assert readiness["status"] == "ready"  # throttling is not an outage
    # Nobody was failed for the outage: all phoned contacts were reached by WhatsApp.
    assert result.outcomes_in_db == {"delivered": phoned, "undeliverable": email_only}
    assert result.messages_by_status.get("rejected", 0) == 0
    return result.figures() | {
        "fault_seconds": round(recovered_at - started, 1),
        "health_during_fault": seen[0],
        "health_reason": seen[1],
        "readyz_failed": readiness["failed"],
        "whatsapp_accepted_during_fault": during,
        "sends_with_lost_answers": timeline.get("unknown", 0),
        "retries": timeline.get("retry", 0),
        "seconds_from_recovery_to_sent": round(finished_at - recovered_at, 1),
        "proxy_requests": dict(proxy.counts),
    }


async def _poll(read: Any, accept: Any, within_seconds: float) -> Any:
    """Read (in a thread, the loop runs Herald) until ``accept`` says yes."""
    deadline = time.monotonic() + within_seconds
    while True:
        value = await asyncio.to_thread(read)
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within_seconds} s; last value {value!r}")
        await asyncio.sleep(0.1)


def _health(herald: Herald) -> tuple[str, str | None]:
    with herald.sessions() as session:
        view = herald.integrations.find_by_name(session, "demo-whatsapp")
    assert view is not None
    return view.health, view.health_reason


def _whatsapp_accepted(sandbox: ProcessSandbox) -> int:
    return int(sandbox.summary()["by_provider"].get("whatsapp", 0))


def _readyz(base_url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(base_url + "/readyz", timeout=10) as answer:  # noqa: S310
            body = answer.read()
    except urllib.error.HTTPError as error:
        body = error.read()
    data = json.loads(body)
    assert isinstance(data, dict)
    return data
