"""/api/v1/campaigns end to end: draft, journey, review, preview, launch, progress, contacts,
message log, lifecycle; with the engine driven by the in-memory channels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.channels.base import ProviderFailure, SendTerminal
from herald.domain.channels import IntegrationKind
from tests.api_support import Api, serve
from tests.support.engine import EngineHarness, reminder_journey

CSV = (
    b"email,phone,name,appointment_date\n"
    b"alex@example.com,+12025550101,Alex,2025-03-10\n"
    b"jamie@example.net,+442071838750,,2025-03-11\n"
)


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[EngineHarness]:
    harness = EngineHarness.create(database_url, tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def api(harness: EngineHarness) -> Iterator[Api]:
    yield from serve(harness.herald, harness.clock)


def new_draft(api: Api, **fields: object) -> dict[str, object]:
    client = api.client("write")
    audience = client.post(
        "/api/v1/audiences",
        files={"file": ("patients.csv", CSV, "text/csv")},
        data={"name": "patients"},
    ).json()["audience"]
    body = {"name": "Spring check-ups", "audience_id": audience["id"]} | fields
    response = client.post("/api/v1/campaigns", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_a_draft_says_what_blocks_its_launch_until_the_journey_is_set(api: Api) -> None:
    client = api.client("write")
    draft = new_draft(api)
    assert draft["status"] == "draft" and draft["tag"] == "spring-check-ups"
    review = client.get(f"/api/v1/campaigns/{draft['id']}/review").json()
    assert review["can_launch"] is False
    refused = client.post(f"/api/v1/campaigns/{draft['id']}/launch")
    assert refused.status_code == 422
    assert refused.json()["code"] == "checks_failed" and refused.json()["field"]
    journey = client.put(
        f"/api/v1/campaigns/{draft['id']}/journey", json={"journey": reminder_journey()}
    )
    assert journey.status_code == 200, journey.text
    assert "appointment_date" in journey.json()["variables"]
    assert client.get(f"/api/v1/campaigns/{draft['id']}/review").json()["can_launch"] is True


def test_preview_renders_a_step_for_a_contact(api: Api) -> None:
    draft = new_draft(api, journey=reminder_journey())
    response = api.client("read").get(
        f"/api/v1/campaigns/{draft['id']}/preview", params={"step": "fallback-1", "contact_row": 3}
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["channel"] == "sms" and preview["contact"]["row"] == 3
    assert "Hi there" in str(preview["message"])
    unknown = api.client("read").get(
        f"/api/v1/campaigns/{draft['id']}/preview", params={"step": "fallback-9"}
    )
    assert unknown.status_code == 422 and unknown.json()["field"]


def test_patch_changes_only_what_is_given(api: Api) -> None:
    draft = new_draft(api, extra_tags=["spring"])
    client = api.client("write")
    patched = client.patch(f"/api/v1/campaigns/{draft['id']}", json={"name": "Autumn"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Autumn" and patched.json()["tags"] == ["autumn", "spring"]
    assert patched.json()["audience_id"] == draft["audience_id"]
    cleared = client.patch(f"/api/v1/campaigns/{draft['id']}", json={"audience_id": None})
    assert cleared.json()["audience_id"] is None


def test_launch_then_follow_contacts_messages_and_progress(
    api: Api, harness: EngineHarness
) -> None:
    client = api.client("write")
    draft = new_draft(api, journey=reminder_journey(follow_up_days=None))
    failure = ProviderFailure(IntegrationKind.WHATSAPP, "131026", "Message undeliverable")
    harness.script(IntegrationKind.WHATSAPP, "+442071838750", SendTerminal(failure))
    launched = client.post(
        f"/api/v1/campaigns/{draft['id']}/launch", headers={"Idempotency-Key": "launch-1"}
    )
    assert launched.status_code == 200, launched.text
    assert launched.json()["status"] == "running"
    retried = client.post(
        f"/api/v1/campaigns/{draft['id']}/launch", headers={"Idempotency-Key": "launch-1"}
    )
    assert retried.json() == launched.json() and retried.headers["idempotent-replayed"] == "true"
    harness.settle()

    messages = client.get(f"/api/v1/campaigns/{draft['id']}/messages").json()["items"]
    assert {(m["channel"], m["to_address"]) for m in messages} >= {
        ("whatsapp", "+12025550101"),
        ("whatsapp", "+442071838750"),
        ("sms", "+442071838750"),
    }
    failed = client.get(
        f"/api/v1/campaigns/{draft['id']}/messages", params={"error_code": "131026"}
    ).json()["items"]
    assert [m["to_address"] for m in failed] == ["+442071838750"]
    contacts = client.get(f"/api/v1/campaigns/{draft['id']}/contacts", params={"limit": 1}).json()
    assert len(contacts["items"]) == 1 and contacts["next_cursor"]
    rest = client.get(
        f"/api/v1/campaigns/{draft['id']}/contacts", params={"cursor": contacts["next_cursor"]}
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    journey_id = rest["items"][0]["journey_id"]
    journey = client.get(f"/api/v1/campaigns/{draft['id']}/contacts/{journey_id}")
    assert journey.status_code == 200, journey.text
    assert journey.json()["contact"]["phone"] == "+442071838750"
    assert [step["status"] for step in journey.json()["steps"]][:1] == ["rejected"]
    assert journey.json()["steps"][0]["message"]["explanation"]["code"] == "131026"
    assert journey.json()["timeline"][0]["kind"] == "launched"

    def with_outcome(outcome: str) -> list[str]:
        listed = client.get(
            f"/api/v1/campaigns/{draft['id']}/contacts", params={"outcome": outcome}
        )
        return sorted(contact["phone"] for contact in listed.json()["items"])

    # Both wait for a delivery status: Alex's WhatsApp message, Jamie's fallback SMS.
    assert with_outcome("in_progress") == ["+12025550101", "+442071838750"]
    assert with_outcome("undeliverable") == []
    detail = client.get(f"/api/v1/campaigns/{draft['id']}/messages/{failed[0]['id']}").json()
    assert detail["message"]["error_code"] == "131026" and detail["contact"]["journey_id"]
    progress = client.get(f"/api/v1/campaigns/{draft['id']}/progress").json()
    assert progress["contacts"] == 2
    assert progress["messages_by_channel"] == {"sms": 1, "whatsapp": 1}  # accepted sends


def test_lifecycle_actions_and_illegal_transitions(api: Api) -> None:
    client = api.client("write")
    draft = new_draft(api, journey=reminder_journey())
    base = f"/api/v1/campaigns/{draft['id']}"
    assert client.post(f"{base}/pause").status_code == 409
    assert client.post(f"{base}/launch").json()["status"] == "running"
    assert client.post(f"{base}/pause").json()["status"] == "paused"
    assert client.post(f"{base}/resume").json()["status"] == "running"
    cancelled = client.post(f"{base}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"{base}/launch")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "illegal_transition"
    audit = api.client("admin").get("/api/v1/audit", params={"target_type": "campaign"}).json()
    actions = [entry["action"] for entry in audit["items"]]
    assert actions == [
        "campaign.cancelled",
        "campaign.resumed",
        "campaign.paused",
        "campaign.launched",
        "campaign.created",
    ]


def test_schedule_refuses_a_local_time_in_a_dst_gap(api: Api) -> None:
    draft = new_draft(api, journey=reminder_journey())
    response = api.client("write").post(
        f"/api/v1/campaigns/{draft['id']}/schedule",
        json={"at": "2025-03-30T01:30", "timezone": "Europe/Lisbon"},
    )
    assert response.status_code == 422
    assert response.json()["field"].startswith("schedule")
    scheduled = api.client("write").post(
        f"/api/v1/campaigns/{draft['id']}/schedule",
        json={"at": "2025-04-02T09:30", "timezone": "Europe/Lisbon"},
    )
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["status"] == "scheduled"


def test_lists_filter_by_status_and_page(api: Api) -> None:
    first = new_draft(api)
    second = new_draft(api, journey=reminder_journey())
    api.client("write").post(f"/api/v1/campaigns/{second['id']}/launch")
    client = api.client("read")
    running = client.get("/api/v1/campaigns", params={"status": "running"}).json()["items"]
    assert [c["id"] for c in running] == [second["id"]]
    page = client.get("/api/v1/campaigns", params={"limit": 1}).json()
    assert [c["id"] for c in page["items"]] == [second["id"]]
    rest = client.get("/api/v1/campaigns", params={"limit": 1, "cursor": page["next_cursor"]})
    assert [c["id"] for c in rest.json()["items"]] == [first["id"]]
    assert client.delete(f"/api/v1/campaigns/{first['id']}").status_code == 403  # read key
    assert api.client("write").delete(f"/api/v1/campaigns/{first['id']}").status_code == 204


def test_a_csv_uploaded_to_a_campaign_becomes_its_own_audience(api: Api) -> None:
    client = api.client("write")
    draft = client.post("/api/v1/campaigns", json={"name": "Walk-ins"}).json()
    uploaded = client.post(
        f"/api/v1/campaigns/{draft['id']}/audience",
        files={"file": ("walk-ins.csv", CSV, "text/csv")},
    )
    assert uploaded.status_code == 200, uploaded.text
    audience_id = uploaded.json()["audience_id"]
    contacts = client.get(f"/api/v1/audiences/{audience_id}/contacts").json()["items"]
    assert [c["email"] for c in contacts] == ["alex@example.com", "jamie@example.net"]
    bad = client.post(
        f"/api/v1/campaigns/{draft['id']}/audience",
        files={"file": ("x.csv", b"name,city\nAna,Porto\n", "text/csv")},
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
