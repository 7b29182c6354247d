"""/api/v1/conversations with real threads: list and filter, thread, reply, hand-off, close;
a reply.received webhook event for the message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from herald.domain.channels import IntegrationKind
from herald.engine.webhook_outbox import produce_events
from tests.api_support import Api, serve
from tests.support.conversations import ConversationHarness

ALEX = "+12025550101"
WA = IntegrationKind.WHATSAPP


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[ConversationHarness]:
    harness = ConversationHarness.create(database_url, tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def api(harness: ConversationHarness) -> Iterator[Api]:
    yield from serve(harness.herald, harness.clock)


def test_read_reply_hand_off_and_close_a_thread(api: Api, harness: ConversationHarness) -> None:
    client = api.client("write")
    hook = client.post(
        "/api/v1/webhooks", json={"url": "https://crm.example.com/h", "events": ["reply.received"]}
    ).json()
    harness.write(ALEX, "Hello")
    harness.settle()
    listed = client.get("/api/v1/conversations", params={"channel": "whatsapp"}).json()
    [conversation] = listed["items"]
    assert conversation["address"] == ALEX and conversation["status"] == "open"
    assert client.get("/api/v1/conversations", params={"status": "closed"}).json()["items"] == []
    base = f"/api/v1/conversations/{conversation['id']}"
    thread = client.get(base).json()
    assert thread["messages"][0]["text"] == "Hello"
    assert thread["messages"][0]["author"] == "contact"

    sent_before = len(harness.channels[WA].sent)
    reply = client.post(f"{base}/replies", json={"text": "From 9.", "reference": "r-1"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["conversation"]["status"] == "handed_off"
    again = client.post(f"{base}/replies", json={"text": "From 9.", "reference": "r-1"})
    assert again.json()["reply"]["id"] == reply.json()["reply"]["id"]
    harness.settle()
    assert len(harness.channels[WA].sent) == sent_before + 1

    assert client.post(f"{base}/return-to-agent").json()["status"] == "open"
    handed = client.post(f"{base}/hand-off", json={"reason": "asked for a person"})
    assert handed.json()["hand_off_reason"] == "asked for a person"
    assert client.post(f"{base}/close").json()["status"] == "closed"
    refused = client.post(f"{base}/close")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert client.post(f"{base}/reopen").json()["status"] == "open"
    assert api.client("read").post(f"{base}/close").status_code == 403
    tagged = client.post(f"{base}/tags", json={"tags": ["vip", "needs_callback"]})
    assert tagged.json()["tags"] == ["needs_callback", "vip"]
    bad_tag = client.post(f"{base}/tags", json={"tags": ["Needs Callback"]})
    assert bad_tag.status_code == 422 and bad_tag.json()["field"] == "tags[0]"
    untagged = client.delete(f"{base}/tags", params={"tag": ["vip", "absent"]})
    assert untagged.json()["tags"] == ["needs_callback"]
    by_tag = client.get("/api/v1/conversations", params={"tag": "needs_callback"}).json()
    assert [c["id"] for c in by_tag["items"]] == [conversation["id"]]
    assert client.post(f"{base}/read").json()["unread_count"] == 0

    # The contact's message is queued for the reply.received subscriber, once.
    harness.clock.advance(timedelta(seconds=10))
    with harness.herald.sessions() as session:
        assert produce_events(session, harness.clock.now()) == 1
        assert produce_events(session, harness.clock.now()) == 0
    [delivery] = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
    data = delivery["payload"]["data"]
    assert delivery["event_type"] == "reply.received"
    assert (data["from"], data["text"], data["channel"]) == (ALEX, "Hello", "whatsapp")
    assert data["conversation_id"] == conversation["id"]
