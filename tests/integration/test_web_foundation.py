"""The web foundation: health endpoints and the problem+json error body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.services.container import Herald
from herald.settings import Settings
from herald.testing import FakeClock
from herald.web.app import create_app
from herald.web.auth import PUBLIC


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    herald = Herald.create(Settings(database_url=database_url, data_dir=tmp_path), FakeClock())
    app = create_app(herald)

    @app.get("/boom/{kind}", dependencies=[PUBLIC])
    def boom(kind: str) -> None:
        errors = {
            "invalid": ValidationError("row 3: phone is not valid", field="phone"),
            "missing": NotFoundError("campaign 9 does not exist"),
            "conflict": ConflictError("campaign is already running"),
        }
        raise errors[kind]

    with TestClient(app) as test_client:
        yield test_client
    herald.close()


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz", params={"check": "database"})
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}
    # No worker has a heartbeat in a fresh database: the full check says so.
    full = client.get("/readyz")
    assert full.status_code == 503
    assert full.json()["failed"] == ["workers"]


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("invalid", 422, "invalid"), ("missing", 404, "not_found"), ("conflict", 409, "conflict")],
)
def test_herald_errors_become_problem_json(
    client: TestClient, kind: str, status: int, code: str
) -> None:
    response = client.get(f"/boom/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    if kind == "invalid":
        assert body["field"] == "phone"
        assert "row 3" in body["detail"]


def test_unknown_routes_answer_problem_json(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
