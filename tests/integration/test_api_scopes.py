"""Every API route, taken from the app itself: no credentials → 401; a read key on a
route that changes something → 403 insufficient_scope; admin routes refuse write keys."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_support import Api, build_api

ADMIN_PREFIXES = ("/api/v1/users", "/api/v1/api-keys", "/api/v1/audit")
PUBLIC = {"/api/v1/openapi.json"}
SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "openapi.json"


def route_table() -> list[tuple[str, str]]:
    """(method, path) of every API operation, path parameters filled with 1; read from the
    checked-in schema, which test_openapi keeps equal to what the app serves."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1") and path not in PUBLIC
        for method in operations
    ]


ROUTES = route_table()
WRITES = [(method, path) for method, path in ROUTES if method != "GET"]
ADMIN = [(method, path) for method, path in ROUTES if path.startswith(ADMIN_PREFIXES)]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Api]:
    directory = tmp_path_factory.mktemp("scopes")
    database = directory / "herald.db"
    database.write_bytes(sqlite_template.read_bytes())
    yield from build_api(f"sqlite:///{database}", directory, api_rate_limit_burst=10_000)


def test_the_table_covers_every_resource() -> None:
    resources = {path.split("/")[3] for _, path in ROUTES}
    assert resources >= {
        "audiences",
        "integrations",
        "agents",
        "campaigns",
        "conversations",
        "suppression",
        "users",
        "api-keys",
        "audit",
        "me",
    }
    assert len(WRITES) > 30


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_credentials_is_401(api: Api, method: str, path: str) -> None:
    response = api.client(None).request(method, path, json={})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_bad_key_is_401(api: Api, method: str, path: str) -> None:
    client = api.client(None)
    client.headers["Authorization"] = "Bearer hk_nothere_0000000000000000000000000000000000000000"
    response = client.request(method, path, json={})
    assert response.status_code == 401 and response.json()["code"] == "invalid_api_key"


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_read_key_cannot_change_anything(api: Api, method: str, path: str) -> None:
    response = api.client("read").request(method, path, json={})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "insufficient_scope"


@pytest.mark.parametrize(("method", "path"), ADMIN)
def test_admin_routes_refuse_write_keys(api: Api, method: str, path: str) -> None:
    response = api.client("write").request(method, path, json={})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "admin_required"
