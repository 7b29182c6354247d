"""A worker process killed with SIGKILL mid-batch costs no contact and no duplicate.

Four ``herald worker`` processes share a PostgreSQL database and run a
campaign (WhatsApp template, SMS fallback, SMS follow-up a day after
delivery) against the sandbox in its own process, which fails and refuses
some WhatsApp messages so fallbacks happen. While one worker holds claimed
journeys whose sends are in flight, it is killed with SIGKILL and a fifth
worker is started. Then:

- every contact completes, with exactly one outcome, and the campaign is Sent;
- the sandbox's own log shows no ``h{journey}-{step}`` key accepted twice;
- the killed worker's unanswered sends were recorded as ``unknown`` and
  never sent again.

The full run is 20,000 contacts: ``HERALD_CRASH_CONTACTS=20000``. On the
two shared cores of the development machine it sends 100 to 250 messages a
second (sandbox, web receiver and five workers share them with other work),
so 20,000 contacts take five minutes or more; CI runs 5,000 (about two).
On an overloaded machine statuses can come after a delivery window closes,
sending more contacts down the fallback or to ``undeliverable``: correct,
so the test asserts the invariants, not the share of each outcome.
"""

from __future__ import annotations

import io
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from herald.channels.sandbox.scenario import ChannelScenario, Scenario, ScriptedRule
from herald.services.audiences import import_audience
from herald.services.campaigns import CampaignServices
from herald.services.demo import demo_csv, integration_settings
from herald.store.journeys import JOURNEY_LOG, JOURNEYS, MESSAGES
from tests.support.cluster import Cluster, ClusterConfig

CONTACTS = int(os.environ.get("HERALD_CRASH_CONTACTS", "5000"))
WORKERS = 4
DAY_SECONDS = 86_400
# A simulated day passes in 21.6 real seconds: the follow-up comes 21.6 s
# after delivery. WhatsApp's window is one day, so a send lost with the killed
# worker (never accepted, no status will come) falls back to SMS within the
# test; statuses of accepted sends arrive well within it.
SPEEDUP = 4_000
WHATSAPP_WINDOW_MINUTES = 24 * 60
SMS_WINDOW_MINUTES = 7 * 24 * 60
# Per integration, across all workers: what a small sandbox process sharing two
# cores with five Herald processes answers without its latency running away.
RATE_PER_SECOND = 400
# A batch on a loaded machine can take seconds; a lease must outlast it.
LEASE_SECONDS = 30
COMPLETION_TIMEOUT_SECONDS = 180 + CONTACTS / 40

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(1800)]


def crash_scenario() -> Scenario:
    """WhatsApp refuses French mobiles outright and fails 15% later; SMS always delivers.

    The 20 ms of latency keeps sends in flight long enough for the kill to
    catch some of them between the provider's acceptance and Herald's record
    of it.
    """
    return Scenario(
        seed=11,
        whatsapp=ChannelScenario(
            latency_ms=20,
            fail_rate=0.15,
            fail_codes=["131049"],
            delivery_delay_seconds=60,
            read_rate=0.0,
            rules=[ScriptedRule(match="+33612", reject="131026")],
        ),
        sms=ChannelScenario(latency_ms=20, delivery_delay_seconds=60, read_rate=0.0),
    )


def crash_journey() -> dict[str, Any]:
    template = {
        "type": "whatsapp_template",
        "name": "appointment_reminder",
        "language": "en",
        "body": [{"column": "name", "default": "there"}, {"column": "appointment_date"}],
    }
    return {
        "primary": {
            "integration": {"name": "demo-whatsapp", "kind": "whatsapp"},
            "content": template,
            "delivery_window_minutes": WHATSAPP_WINDOW_MINUTES,
        },
        "fallbacks": [
            {
                "integration": {"name": "demo-sms", "kind": "infobip_sms"},
                "content": {"type": "sms", "text": "Hi {{name}}, see you {{appointment_date}}."},
                "delivery_window_minutes": SMS_WINDOW_MINUTES,
            }
        ],
        "follow_up": {
            "delay_days": 1,
            "integration": {"name": "demo-sms", "kind": "infobip_sms"},
            "content": {"type": "sms", "text": "Still coming on {{appointment_date}}, {{name}}?"},
        },
    }


def launch(cluster: Cluster, contacts: int) -> int:
    herald = cluster.herald
    with herald.sessions() as session:
        for name, (kind, settings) in integration_settings(
            cluster.sandbox.base_url, cluster.web_url
        ).items():
            limited = settings | {"rate_limit_per_second": RATE_PER_SECOND}
            herald.integrations.create(session, name=name, kind=kind, settings=limited)
    imported = import_audience(
        herald.engine,
        io.BytesIO(demo_csv(contacts, seed=3).encode()),
        name="patients",
        filename="patients.csv",
        clock=herald.clock,
        default_region="US",
    )
    campaigns = CampaignServices(herald.clock)
    with herald.sessions() as session:
        draft = campaigns.create_draft(
            session,
            name="Reminders",
            audience_id=int(imported.audience.id),
            journey=crash_journey(),
        )
        return int(campaigns.launch(session, draft.id).id)


def campaign_status(cluster: Cluster, campaign_id: int) -> str:
    with cluster.herald.sessions() as session:
        return CampaignServices(cluster.herald.clock).get(session, campaign_id).status.value


def messages_answered(cluster: Cluster) -> int:
    query = select(func.count()).select_from(MESSAGES).where(MESSAGES.c.status != "pending")
    with cluster.herald.sessions() as session:
        return int(session.scalar(query) or 0)


def rows(cluster: Cluster, statement: Any) -> list[Any]:
    with cluster.herald.sessions() as session:
        return list(session.execute(statement).all())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_mid_batch_loses_no_contact_and_sends_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    config = ClusterConfig(
        database_url, tmp_path / "cluster", speedup=SPEEDUP, lease_seconds=LEASE_SECONDS
    )
    with Cluster(config, crash_scenario()) as cluster:
        for _ in range(WORKERS):
            cluster.start_worker()
        started = time.monotonic()
        campaign_id = launch(cluster, CONTACTS)
        contacts = rows(cluster, select(func.count()).select_from(JOURNEYS))[0][0]

        # Let the cluster get going, then kill a worker while its sends are in flight.
        cluster.wait_for(
            lambda: messages_answered(cluster) >= contacts // 5, timeout=300, what="a fifth sent"
        )
        victim = cluster.running_workers()[0]
        cluster.wait_for(
            lambda: cluster.in_flight(victim), timeout=60, what="sends in flight", interval=0.01
        )
        victim.kill()
        cluster.start_worker()

        cluster.wait_for(
            lambda: campaign_status(cluster, campaign_id) == "sent",
            timeout=COMPLETION_TIMEOUT_SECONDS,
            what="the campaign to be sent",
        )
        elapsed = time.monotonic() - started
        outputs = "".join(worker.output_tail(10**6) for worker in cluster.workers)
        sends = cluster.sends_per_key()
        journeys = rows(cluster, select(JOURNEYS.c.id, JOURNEYS.c.phase, JOURNEYS.c.outcome))
        completions = Counter(
            row.journey_id
            for row in rows(
                cluster, select(JOURNEY_LOG.c.journey_id).where(JOURNEY_LOG.c.kind == "completed")
            )
        )
        recovered = rows(
            cluster,
            select(JOURNEY_LOG.c.journey_id, JOURNEY_LOG.c.step).where(
                JOURNEY_LOG.c.kind == "unknown",
                JOURNEY_LOG.c.detail == "worker stopped during the send",
            ),
        )
        messages = {
            row.key: row
            for row in rows(cluster, select(MESSAGES.c.key, MESSAGES.c.status, MESSAGES.c.attempt))
        }
        with cluster.herald.sessions() as session:
            outcomes = (
                CampaignServices(cluster.herald.clock).progress(session, campaign_id).outcomes
            )
        survivors = cluster.running_workers()

    print(
        f"{contacts} contacts, {len(messages)} messages, {sum(sends.values())} sends "
        f"in {elapsed:.0f} s; {len(recovered)} sends recovered as unknown; {outcomes}"
    )
    # Every contact completed, once.
    assert len(journeys) == contacts > 0
    assert [j.id for j in journeys if j.phase != "done" or j.outcome is None] == []
    assert sum(outcomes.values()) == contacts
    assert set(completions) == {j.id for j in journeys}
    assert max(completions.values()) == 1
    # The sandbox never accepted a key twice, nor one Herald did not record first.
    assert [key for key, count in sends.items() if count > 1] == []
    assert set(sends) <= set(messages)
    # The killed worker left unanswered intents; each became unknown, none was resent.
    assert recovered, "the kill caught no send in flight"
    for journey_id, step in recovered:
        key = f"h{journey_id}-{step}"
        assert sends.get(key, 0) <= 1
        assert messages[key].attempt == 1
        assert messages[key].status != "pending"
    # Fallbacks and follow-ups both happened, and no surviving worker lost a lease.
    assert outcomes.get("followed_up", 0) > 0
    assert any(key.endswith("-1") for key in sends)
    assert len(survivors) == WORKERS
    assert "LeaseLostError" not in outputs
    assert "Traceback" not in outputs
