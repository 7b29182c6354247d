"""/api/v1 integrations, agents, conversations and suppression: behaviour and secrets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_support import Api, build_api
from tests.support.engine import INFOBIP, WHATSAPP


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(database_url, tmp_path)


def create_whatsapp(api: Api) -> dict[str, object]:
    response = api.client("write").post(
        "/api/v1/integrations",
        json={"name": "Clinic WhatsApp", "kind": "whatsapp", "settings": WHATSAPP},
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_integration_secrets_go_in_and_never_come_out(api: Api) -> None:
    created = create_whatsapp(api)
    listed = api.client("read").get("/api/v1/integrations").text
    for text in (str(created), listed):
        assert WHATSAPP["access_token"] not in text and WHATSAPP["app_secret"] not in text
    assert created["settings"]["access_token"] == "********"  # type: ignore[index]
    # Sending the mask back keeps the stored secret; other fields change.
    patched = api.client("write").patch(
        f"/api/v1/integrations/{created['id']}",
        json={"settings": {"access_token": "********", "phone_number_id": "999"}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["settings"]["phone_number_id"] == "999"
    with api.herald.sessions() as session:
        settings = api.herald.integrations.provider_settings(session, created["id"])  # type: ignore[arg-type]
    assert settings.access_token.get_secret_value() == WHATSAPP["access_token"]  # type: ignore[attr-defined]
    audit = api.client("admin").get("/api/v1/audit", params={"target_type": "integration"})
    entries = [(e["action"], e["actor"]["label"], e["details"]) for e in audit.json()["items"]]
    assert entries == [
        (
            "integration.updated",
            "write key",
            {"fields": ["access_token", "phone_number_id", "settings"]},
        ),
        ("integration.created", "write key", {"kind": "whatsapp"}),
    ]


def test_integrations_activate_deactivate_and_test(api: Api) -> None:
    created = create_whatsapp(api)
    client = api.client("write")
    base = f"/api/v1/integrations/{created['id']}"
    assert client.post(f"{base}/deactivate").json()["is_active"] is False
    assert client.get("/api/v1/integrations", params={"active_only": True}).json()["items"] == []
    assert client.post(f"{base}/activate").json()["is_active"] is True
    tested = client.post(f"{base}/test")  # nothing listens on 127.0.0.1:9
    assert tested.status_code == 200, tested.text
    assert tested.json()["health"] == "unhealthy" and tested.json()["health_checked_at"]


def test_integration_errors_name_the_field(api: Api) -> None:
    client = api.client("write")
    unknown = client.post(
        "/api/v1/integrations", json={"name": "x", "kind": "pigeon", "settings": {}}
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "kind"
    incomplete = client.post(
        "/api/v1/integrations",
        json={"name": "sms", "kind": "infobip_sms", "settings": {"sender": "Herald"}},
    )
    assert incomplete.status_code == 422 and incomplete.json()["field"]
    assert INFOBIP["api_key"] not in incomplete.text
    create_whatsapp(api)
    duplicate = client.post(
        "/api/v1/integrations",
        json={"name": "Clinic WhatsApp", "kind": "whatsapp", "settings": WHATSAPP},
    )
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "name"
    assert client.get("/api/v1/integrations/999").status_code == 404


RULES = {
    "default_language": "en",
    "intents": [
        {"name": "hours", "keywords": {"en": ["open"]}, "reply": {"en": "9 to 5."}},
    ],
}


def test_agents_versions_are_drafted_then_published(api: Api) -> None:
    client = api.client("write")
    created = client.post(
        "/api/v1/agents", json={"name": "Front desk", "kind": "rules", "config": RULES}
    )
    assert created.status_code == 201, created.text
    agent = created.json()
    version = agent["versions"][0]
    assert version["number"] == 1 and version["is_published"] is False
    published = client.post(f"/api/v1/agents/{agent['id']}/versions/{version['id']}/publish")
    assert published.status_code == 200 and published.json()["is_published"] is True
    draft = client.post(f"/api/v1/agents/{agent['id']}/versions", json={"config": RULES})
    assert draft.status_code == 201 and draft.json()["number"] == 2
    names = [a["name"] for a in client.get("/api/v1/agents").json()["items"]]
    assert "Front desk" in names
    bad = client.post(
        "/api/v1/agents",
        json={"name": "Broken", "kind": "rules", "config": {"intents": "nope"}},
    )
    assert bad.status_code == 422 and bad.json()["field"].startswith("config")


def test_a_webhook_agent_secret_is_never_returned_whole(api: Api) -> None:
    secret = "s3cret-shared-with-the-bot-0123456789"
    created = api.client("write").post(
        "/api/v1/agents",
        json={
            "name": "Bot",
            "kind": "webhook",
            "config": {"url": "http://127.0.0.1:9/bot", "secret": secret},
        },
    )
    assert created.status_code == 201, created.text
    assert secret not in created.text
    assert secret not in api.client("read").get("/api/v1/agents").text


def test_suppression_add_list_remove(api: Api) -> None:
    client = api.client("write")
    added = client.post(
        "/api/v1/suppression", json={"address": "+1 (202) 555-0101", "detail": "by phone"}
    )
    assert added.status_code == 201, added.text
    assert added.json()["address"] == "+12025550101" and added.json()["reason"] == "manual"
    again = client.post("/api/v1/suppression", json={"address": "+12025550101"})
    assert again.status_code == 200 and again.json()["id"] == added.json()["id"]
    client.post("/api/v1/suppression", json={"address": "Ana@Example.com", "scope": "email"})
    page = client.get("/api/v1/suppression", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    found = client.get("/api/v1/suppression", params={"q": "ana@"}).json()["items"]
    assert [entry["address"] for entry in found] == ["ana@example.com"]
    removed = client.delete("/api/v1/suppression", params={"address": "+12025550101"})
    assert removed.json() == {"removed": 1}
    bad = client.post("/api/v1/suppression", json={"address": "not an address"})
    assert bad.status_code == 422 and bad.json()["field"]


def test_conversations_list_is_empty_and_unknown_ones_are_404(api: Api) -> None:
    client = api.client("write")
    assert client.get("/api/v1/conversations").json() == {"items": [], "next_cursor": None}
    missing = client.post("/api/v1/conversations/42/close")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    bad = client.get("/api/v1/conversations", params={"channel": "fax"})
    assert bad.status_code == 422 and bad.json()["field"] == "query.channel"
