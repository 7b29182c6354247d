"""Helpers for API tests: a Herald app with users and API keys of each scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from herald.domain.api_keys import ApiKeyScope
from herald.services.container import Herald
from herald.testing import FakeClock
from herald.web.app import create_app
from tests.auth_support import SETUP, add_standard_users, make_herald

CSV = (
    b"phone,email,first_name\n"
    b"+351912345678,ana@example.com,Ana\n"
    b"+351912345679,rui@example.com,Rui\n"
)


@dataclass
class Api:
    herald: Herald
    app: FastAPI
    clock: FakeClock
    tokens: dict[str, str]

    def client(self, scope: str | None = "admin") -> TestClient:
        """A client with a key of ``scope`` (``read``, ``write``, ``admin``), or none."""
        client = TestClient(self.app)
        if scope is not None:
            client.headers["Authorization"] = f"Bearer {self.tokens[scope]}"
        return client


def build_api(database_url: str, data_dir: Path, **settings: Any) -> Iterator[Api]:
    clock = FakeClock()
    herald = make_herald(database_url, data_dir, clock, **settings)
    yield from serve(herald, clock)
    herald.close()


def serve(herald: Herald, clock: FakeClock) -> Iterator[Api]:
    """The app over ``herald``, with the standard users and one API key per scope."""
    add_standard_users(herald)
    tokens = {}
    with herald.sessions() as session:
        for scope in ApiKeyScope:
            created = herald.api_keys.create_key(
                session, name=f"{scope.value} key", scope=scope, actor=SETUP
            )
            tokens[scope.value] = created.token
    app = create_app(herald)
    with TestClient(app):
        yield Api(herald, app, clock, tokens)


def upload_audience(client: TestClient, csv: bytes = CSV, name: str = "Lisbon") -> dict[str, Any]:
    response = client.post(
        "/api/v1/audiences",
        files={"file": ("contacts.csv", csv, "text/csv")},
        data={"name": name, "default_region": "PT"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
