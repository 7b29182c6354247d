"""Request rate per API key or client IP: 429 with Retry-After; JSON body size: 413."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.api_support import Api, build_api


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(
        sqlite_url,
        tmp_path,
        api_rate_limit_per_second=0.5,
        api_rate_limit_burst=3,
        api_body_max_bytes=2048,
    )


def test_a_key_past_its_burst_waits_as_retry_after_says(api: Api) -> None:
    client = api.client("read")
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/me")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"  # one token at 0.5/s
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    api.clock.advance(timedelta(seconds=2))
    assert client.get("/api/v1/me").status_code == 200


def test_each_key_and_each_address_has_its_own_bucket(api: Api) -> None:
    read, write, anonymous = api.client("read"), api.client("write"), api.client(None)
    for _ in range(3):
        read.get("/api/v1/me")
    assert read.get("/api/v1/me").status_code == 429
    assert write.get("/api/v1/me").status_code == 200
    assert anonymous.get("/api/v1/me").status_code == 401  # its own (IP) bucket


def test_a_large_json_body_is_refused_with_413(api: Api) -> None:
    response = api.client("write").post("/api/v1/audiences/empty", json={"name": "x" * 4000})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_streamed_body_without_length_is_cut_at_the_limit(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    response = api.client("write").post(
        "/api/v1/audiences/empty",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_pages_are_not_rate_limited_by_the_api_limiter(api: Api) -> None:
    client = api.client(None)
    assert all(client.get("/healthz").status_code == 200 for _ in range(6))
