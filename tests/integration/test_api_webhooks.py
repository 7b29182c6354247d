"""Outbound webhooks end to end: subscribe over the API, run a campaign, deliver signed
events to a receiver on 127.0.0.1, retry with backoff, see every attempt in the API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from herald.channels.base import ProviderFailure, SendTerminal
from herald.domain.channels import IntegrationKind
from herald.domain.outbound_webhooks import is_valid_signature, retry_delay_seconds
from herald.engine.webhook_delivery import WebhookWorker
from tests.api_support import Api, serve
from tests.support.engine import EngineHarness, reminder_journey

CSV = "email,phone,name,appointment_date\nalex@example.com,+12025550101,Alex,2025-03-10\n"
WA, SMS = IntegrationKind.WHATSAPP, IntegrationKind.INFOBIP_SMS


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[EngineHarness]:
    harness = EngineHarness.create(database_url, tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def api(harness: EngineHarness) -> Iterator[Api]:
    yield from serve(harness.herald, harness.clock)


class Receiver:
    """Answers the queued statuses in turn (then 200) and records every request."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


def run_worker(
    harness: EngineHarness, receiver: Receiver | None, url_box: list[str], passes: int
) -> None:
    """Run the webhook worker ``passes`` times with ``receiver`` listening (None: nobody)."""

    async def main() -> None:
        app = web.Application()
        if receiver is not None:
            app.router.add_post("/hook", receiver.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        if receiver is not None:
            port = int(url_box[0].rsplit(":", 1)[1].split("/")[0])
            await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as http:
                worker = WebhookWorker(
                    sessions=harness.herald.sessions,
                    clock=harness.clock,
                    box=harness.herald.box,
                    http=http,
                )
                for _ in range(passes):
                    await worker.run_once()
        finally:
            await runner.cleanup()

    asyncio.run(main())


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def subscribe(api: Api, url: str, events: list[str]) -> dict[str, Any]:
    response = api.client("write").post("/api/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_completed_contacts_and_the_sent_campaign_are_delivered_signed(
    api: Api, harness: EngineHarness
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    subscription = subscribe(api, url, ["contact.completed", "campaign.sent"])
    secret = subscription["secret"]
    assert secret.startswith("whsec_")
    assert secret not in api.client("read").get("/api/v1/webhooks").text
    harness.script(WA, "+12025550101", SendTerminal(ProviderFailure(WA, "131026", "No WhatsApp")))
    harness.script(SMS, "+12025550101", SendTerminal(ProviderFailure(SMS, "EC_ABSENT", "Absent")))
    campaign_id = harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    assert harness.status(campaign_id) == "sent"
    harness.clock.advance(timedelta(seconds=10))  # past the producer's grace

    receiver = Receiver([])
    run_worker(harness, receiver, [url], passes=2)
    bodies = [json.loads(body) for _, body in receiver.requests]
    assert sorted(body["type"] for body in bodies) == ["campaign.sent", "contact.completed"]
    completed = next(body for body in bodies if body["type"] == "contact.completed")
    assert completed["data"]["outcome"] == "undeliverable"
    assert completed["data"]["contact"]["phone"] == "+12025550101"
    assert completed["data"]["campaign_id"] == campaign_id
    sent = next(body for body in bodies if body["type"] == "campaign.sent")
    assert sent["data"]["outcomes"] == {"undeliverable": 1}
    for headers, body in receiver.requests:
        timestamp = int(headers["Herald-Webhook-Timestamp"])
        assert is_valid_signature(secret, timestamp, body, headers["Herald-Webhook-Signature"])
        assert not is_valid_signature(
            "whsec_other", timestamp, body, headers["Herald-Webhook-Signature"]
        )
        assert headers["Herald-Webhook-Id"] == json.loads(body)["id"]

    # Running again delivers nothing twice.
    again = Receiver([])
    run_worker(harness, again, [url], passes=2)
    assert again.requests == []


def test_a_failing_receiver_is_retried_with_backoff_and_attempts_are_visible(
    api: Api, harness: EngineHarness
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    subscription = subscribe(api, url, ["contact.completed"])
    harness.script(WA, "+12025550101", SendTerminal(ProviderFailure(WA, "131026", "No WhatsApp")))
    harness.script(SMS, "+12025550101", SendTerminal(ProviderFailure(SMS, "EC_ABSENT", "Absent")))
    harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    harness.clock.advance(timedelta(seconds=10))

    receiver = Receiver([500, 503])
    run_worker(harness, receiver, [url], passes=2)  # the second pass is before the retry is due
    assert len(receiver.requests) == 1
    client = api.client("read")
    base = f"/api/v1/webhooks/{subscription['id']}/deliveries"
    [pending] = client.get(base).json()["items"]
    assert pending["status"] == "pending" and pending["attempts"] == 1
    assert pending["last_status_code"] == 500
    first_delay = retry_delay_seconds(1)
    assert first_delay == 30

    harness.clock.advance(timedelta(seconds=first_delay))
    run_worker(harness, receiver, [url], passes=1)  # 503
    harness.clock.advance(timedelta(seconds=retry_delay_seconds(2) or 0))
    run_worker(harness, receiver, [url], passes=1)  # 200
    assert len(receiver.requests) == 3
    assert len({headers["Herald-Webhook-Id"] for headers, _ in receiver.requests}) == 1
    detail = client.get(f"{base}/{pending['id']}").json()
    assert detail["status"] == "delivered" and detail["attempts"] == 3
    assert [attempt["status_code"] for attempt in detail["history"]] == [500, 503, 200]
    delivered = client.get(base, params={"status": "delivered"}).json()["items"]
    assert [item["id"] for item in delivered] == [pending["id"]]


def test_a_receiver_that_keeps_failing_is_given_up_after_the_last_attempt(
    api: Api, harness: EngineHarness
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    subscription = subscribe(api, url, ["contact.completed"])
    harness.script(WA, "+12025550101", SendTerminal(ProviderFailure(WA, "131026", "No WhatsApp")))
    harness.script(SMS, "+12025550101", SendTerminal(ProviderFailure(SMS, "EC_ABSENT", "Absent")))
    harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    harness.clock.advance(timedelta(seconds=10))
    receiver = Receiver([500] * 20)
    run_worker(harness, receiver, [url], passes=1)
    for failures in range(1, 20):
        delay = retry_delay_seconds(failures)
        if delay is None:
            break
        harness.clock.advance(timedelta(seconds=delay))
        run_worker(harness, receiver, [url], passes=1)
    [failed] = (
        api.client("read").get(f"/api/v1/webhooks/{subscription['id']}/deliveries").json()["items"]
    )
    assert failed["status"] == "failed" and failed["next_attempt_at"] is None
    assert failed["attempts"] == len(receiver.requests) == 10

    # Once the receiver is fixed, an operator sends it again.
    path = f"/api/v1/webhooks/{subscription['id']}/deliveries/{failed['id']}"
    again = api.client("write").post(f"{path}/redeliver")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "pending" and len(again.json()["history"]) == 10
    pending = api.client("write").post(f"{path}/redeliver")
    assert pending.status_code == 409 and pending.json()["code"] == "delivery_pending"
    run_worker(harness, Receiver([]), [url], passes=1)
    detail = api.client("read").get(path).json()
    assert detail["status"] == "delivered" and len(detail["history"]) == 11


def test_an_unreachable_receiver_is_retried(api: Api, harness: EngineHarness) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    subscription = subscribe(api, url, ["contact.completed"])
    harness.script(WA, "+12025550101", SendTerminal(ProviderFailure(WA, "131026", "No WhatsApp")))
    harness.script(SMS, "+12025550101", SendTerminal(ProviderFailure(SMS, "EC_ABSENT", "Absent")))
    harness.launch(CSV, reminder_journey(follow_up_days=None))
    harness.settle()
    harness.clock.advance(timedelta(seconds=10))
    run_worker(harness, None, [url], passes=1)
    base = f"/api/v1/webhooks/{subscription['id']}/deliveries"
    [pending] = api.client("read").get(base).json()["items"]
    assert pending["status"] == "pending" and pending["last_status_code"] is None
    assert "ClientConnectorError" in pending["last_error"]
    detail = api.client("read").get(f"{base}/{pending['id']}").json()
    assert detail["history"][0]["status_code"] is None and detail["history"][0]["error"]


def test_subscriptions_validate_their_url_and_events(api: Api) -> None:
    client = api.client("write")
    bad_url = client.post("/api/v1/webhooks", json={"url": "ftp://x", "events": ["reply.received"]})
    assert bad_url.status_code == 422 and bad_url.json()["field"] == "url"
    bad_event = client.post(
        "/api/v1/webhooks", json={"url": "https://crm.example.com/h", "events": ["nope"]}
    )
    assert bad_event.status_code == 422 and "events" in bad_event.json()["field"]
    created = subscribe(api, "https://crm.example.com/h", ["reply.received"])
    patched = client.patch(f"/api/v1/webhooks/{created['id']}", json={"is_active": False})
    assert patched.json()["is_active"] is False and "secret" not in patched.json()
    assert client.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert client.get(f"/api/v1/webhooks/{created['id']}").status_code == 404
