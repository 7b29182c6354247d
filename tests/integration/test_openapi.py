"""The OpenAPI document: served, checked in, and describing problem+json errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.web.api.schema import openapi_text
from tests.api_support import Api, build_api

CHECKED_IN = Path(__file__).parents[2] / "docs" / "openapi.json"


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(sqlite_url, tmp_path)


def test_the_checked_in_schema_is_the_generated_one() -> None:
    assert CHECKED_IN.read_text(encoding="utf-8") == openapi_text(), (
        "docs/openapi.json is out of date: run scripts/export-openapi"
    )


def test_the_schema_is_served_without_credentials_and_matches(api: Api) -> None:
    response = api.client(None).get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(CHECKED_IN.read_text(encoding="utf-8"))


def test_every_api_operation_documents_problems_and_needs_a_key() -> None:
    schema = json.loads(CHECKED_IN.read_text(encoding="utf-8"))
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            problem = operation["responses"]["4XX"]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}, (method, path)
            assert "422" not in operation["responses"], (method, path)
            assert operation.get("security") != [], (method, path)
