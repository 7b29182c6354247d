"""Schemathesis against the ASGI app with an admin key: for every operation, generated
requests (valid and invalid) never get a 5xx, and every response fits the schema
(status code, content type, headers, body)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_support import CSV, Api, build_api, upload_audience
from tests.support.engine import INFOBIP, WHATSAPP, reminder_journey

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "openapi.json"
MAX_EXAMPLES = 30  # per operation: the whole run stays well under two minutes
# Revoking keys would only lock the test out of the rest of the API.
EXCLUDED = {("DELETE", "/api/v1/api-keys/{key_id}")}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Api]:
    directory = tmp_path_factory.mktemp("schemathesis")
    database = directory / "herald.db"
    database.write_bytes(sqlite_template.read_bytes())
    yield from build_api(f"sqlite:///{database}", directory, api_rate_limit_burst=1_000_000)


@pytest.fixture(scope="module")
def api_schema(api: Api) -> Any:
    # Something to find at small ids: an audience, integrations, a campaign with a journey,
    # a subscription and a suppression entry.
    client = api.client("write")
    audience = upload_audience(client, CSV)["audience"]
    for name, kind, fields in (
        ("clinic-whatsapp", "whatsapp", WHATSAPP),
        ("clinic-sms", "infobip_sms", INFOBIP),
    ):
        client.post("/api/v1/integrations", json={"name": name, "kind": kind, "settings": fields})
    client.post(
        "/api/v1/campaigns",
        json={"name": "Spring", "audience_id": audience["id"], "journey": reminder_journey()},
    )
    client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/", "events": ["campaign.sent"]}
    )
    client.post("/api/v1/suppression", json={"address": "+12025550101"})
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.app)


def operations() -> list[tuple[str, str]]:
    """(method, path) of every API operation, read from the checked-in schema."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return [
        (method.upper(), path)
        for path, methods in schema["paths"].items()
        if path.startswith("/api/v1")
        for method in methods
        if (method.upper(), path) not in EXCLUDED
    ]


@pytest.mark.parametrize(("method", "path"), operations())
def test_the_api_keeps_to_its_schema(api_schema: Any, api: Api, method: str, path: str) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {api.tokens['admin']}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
