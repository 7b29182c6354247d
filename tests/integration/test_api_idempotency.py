"""Idempotency-Key: retries replay the first response; reuse with another body is refused;
concurrent duplicates run once. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from threading import Barrier

import pytest

from herald.services.idempotency import IdempotencyStore, fingerprint
from herald.store.idempotency import NewClaim
from tests.api_support import CSV, Api, build_api

EMPTY = "/api/v1/audiences/empty"


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(database_url, tmp_path)


def count_audiences(api: Api) -> int:
    return len(api.client("read").get("/api/v1/audiences").json()["items"])


def test_a_retry_returns_the_first_response_and_creates_nothing(api: Api) -> None:
    client = api.client("write")
    headers = {"Idempotency-Key": "3f1c2a4e-0000-4000-8000-000000000001"}
    first = client.post(EMPTY, json={"name": "VIP"}, headers=headers)
    again = client.post(EMPTY, json={"name": "VIP"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert count_audiences(api) == 1


def test_an_upload_retried_with_a_new_multipart_boundary_is_a_replay(api: Api) -> None:
    client = api.client("write")
    headers = {"Idempotency-Key": "upload-1"}
    files = {"file": ("c.csv", CSV, "text/csv")}
    first = client.post("/api/v1/audiences", files=files, data={"name": "L"}, headers=headers)
    again = client.post("/api/v1/audiences", files=files, data={"name": "L"}, headers=headers)
    assert first.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert count_audiences(api) == 1


def test_the_same_key_with_another_body_is_refused(api: Api) -> None:
    client = api.client("write")
    headers = {"Idempotency-Key": "k-1"}
    assert client.post(EMPTY, json={"name": "A"}, headers=headers).status_code == 201
    other = client.post(EMPTY, json={"name": "B"}, headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["field"] == "Idempotency-Key"
    assert count_audiences(api) == 1


def test_keys_belong_to_their_caller(api: Api) -> None:
    headers = {"Idempotency-Key": "shared"}
    assert api.client("write").post(EMPTY, json={"name": "A"}, headers=headers).status_code == 201
    second = api.client("admin").post(EMPTY, json={"name": "A"}, headers=headers)
    assert second.status_code == 201 and "idempotent-replayed" not in second.headers
    assert count_audiences(api) == 2


def test_an_error_response_is_replayed_too(api: Api) -> None:
    client = api.client("write")
    headers = {"Idempotency-Key": "bad-1"}
    first = client.post(EMPTY, json={"name": "A", "default_region": "ZZ"}, headers=headers)
    again = client.post(EMPTY, json={"name": "A", "default_region": "ZZ"}, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/problem+json"


def test_a_malformed_key_is_refused(api: Api) -> None:
    response = api.client("write").post(
        EMPTY, json={"name": "A"}, headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert count_audiences(api) == 0


def test_a_duplicate_while_the_first_runs_is_refused_with_409(api: Api) -> None:
    body = b'{"name":"VIP"}'
    store = IdempotencyStore(api.herald.sessions, api.clock, api.herald.box)
    key_id = _key_id(api, "write")
    claim = NewClaim(
        f"api_key:{key_id}", "busy", fingerprint("POST", EMPTY, "", body), "POST", EMPTY
    )
    assert store.begin(claim) is None  # the first request is "running"
    response = api.client("write").post(
        EMPTY, content=body, headers={"Idempotency-Key": "busy", "Content-Type": "application/json"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    # Once its lock runs out (the first request died), the key is taken over.
    api.clock.advance(timedelta(seconds=61))
    response = api.client("write").post(
        EMPTY, content=body, headers={"Idempotency-Key": "busy", "Content-Type": "application/json"}
    )
    assert response.status_code == 201


def test_concurrent_duplicates_execute_once(api: Api) -> None:
    attempts = 6
    barrier = Barrier(attempts)

    def post(_: int) -> tuple[int, int | None]:
        client = api.client("write")
        barrier.wait()
        response = client.post(EMPTY, json={"name": "race"}, headers={"Idempotency-Key": "race"})
        created = response.json().get("id") if response.status_code == 201 else None
        return response.status_code, created

    with ThreadPoolExecutor(attempts) as pool:
        results = list(pool.map(post, range(attempts)))
    assert {status for status, _ in results} <= {201, 409}
    assert len({created for _, created in results if created is not None}) == 1
    assert count_audiences(api) == 1


def _key_id(api: Api, scope: str) -> int:
    me = api.client(scope).get("/api/v1/me").json()
    key_id: int = me["id"]
    return key_id


def test_a_key_expires_after_a_day(api: Api) -> None:
    client = api.client("write")
    headers = {"Idempotency-Key": "daily"}
    assert client.post(EMPTY, json={"name": "A"}, headers=headers).status_code == 201
    api.clock.advance(timedelta(hours=24, seconds=1))
    later = client.post(EMPTY, json={"name": "B"}, headers=headers)
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert count_audiences(api) == 2
