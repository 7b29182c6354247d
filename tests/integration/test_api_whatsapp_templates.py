"""/api/v1/integrations/{id}/templates: the cached template list over the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from herald.channels.sandbox.process import ProcessSandbox
from herald.channels.sandbox.scenario import Scenario
from herald.services.demo import integration_settings
from tests.api_support import Api, build_api


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProcessSandbox]:
    with ProcessSandbox(Scenario()) as running:
        yield running


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(sqlite_url, tmp_path, whatsapp_templates_ttl_seconds=300)


def _add(api: Api, base_url: str, name: str) -> int:
    settings = integration_settings(base_url, "http://127.0.0.1:8")
    kind, values = settings[name]
    with api.herald.sessions() as db:
        return int(api.herald.integrations.create(db, name=name, kind=kind, settings=values).id)


def test_templates_are_listed_from_the_cache_and_refreshed(
    api: Api, sandbox: ProcessSandbox
) -> None:
    integration = _add(api, sandbox.base_url, "demo-whatsapp")
    read = api.client("read")
    first = read.get(f"/api/v1/integrations/{integration}/templates")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["error"] is None and body["is_complete"] is True
    by_key = {(item["name"], item["language"]): item for item in body["templates"]}
    reminder = by_key["appointment_reminder", "en"]
    assert (reminder["status"], reminder["body_parameters"]) == ("APPROVED", 2)
    assert by_key["spring_sale", "es"]["status"] == "PAUSED"
    fetched_at = body["fetched_at"]
    api.clock.advance(timedelta(seconds=299))
    assert read.get(f"/api/v1/integrations/{integration}/templates").json()["fetched_at"] == (
        fetched_at
    )
    refresh = f"/api/v1/integrations/{integration}/templates/refresh"
    assert read.post(refresh).status_code == 403  # a read key cannot make Herald call Meta
    refreshed = api.client("write").post(refresh)
    assert refreshed.status_code == 200
    assert refreshed.json()["fetched_at"] != fetched_at


def test_a_failed_fetch_is_reported_in_the_answer(api: Api) -> None:
    integration = _add(api, "http://127.0.0.1:9", "demo-whatsapp")
    body = api.client("read").get(f"/api/v1/integrations/{integration}/templates").json()
    assert body["templates"] is None
    assert "cannot reach the WhatsApp API" in body["error"]


def test_other_kinds_and_unknown_ids_are_refused(api: Api) -> None:
    sms = _add(api, "http://127.0.0.1:9", "demo-sms")
    client = api.client("read")
    refused = client.get(f"/api/v1/integrations/{sms}/templates")
    assert refused.status_code == 422
    assert "only WhatsApp integrations have templates" in refused.text
    assert client.get("/api/v1/integrations/999/templates").status_code == 404
    assert api.client(None).get(f"/api/v1/integrations/{sms}/templates").status_code == 401
