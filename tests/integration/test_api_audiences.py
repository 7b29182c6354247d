"""/api/v1/audiences: upload and report, contacts paged, quick add, export, size limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_support import CSV, Api, build_api, upload_audience


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(database_url, tmp_path, upload_max_bytes=4096)


def test_upload_lists_contacts_page_by_page(api: Api) -> None:
    client = api.client("write")
    created = upload_audience(client)
    audience = created["audience"]
    assert audience["status"] == "ready" and audience["source_filename"] == "contacts.csv"
    assert created["report"]["valid_contacts"] == 2
    first = client.get(f"/api/v1/audiences/{audience['id']}/contacts", params={"limit": 1}).json()
    assert [c["email"] for c in first["items"]] == ["ana@example.com"]
    assert first["items"][0]["phone"] == "+351912345678"
    second = client.get(
        f"/api/v1/audiences/{audience['id']}/contacts",
        params={"limit": 1, "cursor": first["next_cursor"]},
    ).json()
    assert [c["email"] for c in second["items"]] == ["rui@example.com"]
    assert second["next_cursor"] is None


def test_check_reports_problems_by_row_without_storing(api: Api) -> None:
    client = api.client("write")
    csv = CSV + b"not-a-phone,not-an-email,Ze\n"
    report = client.post(
        "/api/v1/audiences/check", files={"file": ("c.csv", csv, "text/csv")}
    ).json()
    assert report["summary"]["valid_contacts"] == 2
    assert any(problem["row"] == 4 for problem in report["problems"])
    assert client.get("/api/v1/audiences").json()["items"] == []


def test_quick_add_validates_and_refuses_duplicates(api: Api) -> None:
    client = api.client("write")
    audience_id = upload_audience(client)["audience"]["id"]
    added = client.post(
        f"/api/v1/audiences/{audience_id}/contacts",
        json={"phone": "+351 913 000 111", "fields": {"first_name": "Ivo"}},
    )
    assert added.status_code == 201, added.text
    assert added.json()["contact"]["phone"] == "+351913000111"
    again = client.post(
        f"/api/v1/audiences/{audience_id}/contacts", json={"phone": "+351913000111"}
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    bad = client.post(f"/api/v1/audiences/{audience_id}/contacts", json={"phone": "12"})
    assert bad.status_code == 422 and bad.json()["field"]


def test_export_is_csv(api: Api) -> None:
    client = api.client("read")
    audience_id = upload_audience(api.client("write"))["audience"]["id"]
    response = client.get(f"/api/v1/audiences/{audience_id}/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "ana@example.com" in response.text and "rui@example.com" in response.text


def test_an_oversized_upload_is_refused_with_413(api: Api) -> None:
    big = CSV + b"".join(b"+3519%08d,,x\n" % n for n in range(400))
    response = api.client("write").post(
        "/api/v1/audiences",
        files={"file": ("big.csv", big, "text/csv")},
        data={"name": "big"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"


def test_a_bad_cursor_names_the_parameter(api: Api) -> None:
    response = api.client("read").get("/api/v1/audiences", params={"cursor": "zz"})
    assert response.status_code == 422
    assert response.json() | {"detail": ""} == response.json() | {
        "code": "invalid_cursor",
        "field": "cursor",
        "detail": "",
    }
