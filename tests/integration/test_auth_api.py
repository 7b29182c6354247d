"""The management API: users, API keys, audit, /me; roles and key scopes enforced."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.auth_support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    csrf_token,
    log_in,
)
from tests.integration.test_auth_web import Web, build


@pytest.fixture
def web(sqlite_url: str, tmp_path: Path) -> Iterator[Web]:
    yield from build(sqlite_url, tmp_path)


@pytest.fixture
def web_any(database_url: str, tmp_path: Path) -> Iterator[Web]:
    yield from build(database_url, tmp_path)


def signed_in(web: Web, email: str, password: str) -> TestClient:
    client = web.new_client()
    log_in(client, email, password)
    client.headers["X-CSRF-Token"] = csrf_token(client, "/account")
    return client


def bearer(web: Web, token: str) -> TestClient:
    client = web.new_client()
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def new_key(admin: TestClient, scope: str, name: str = "CRM sync") -> str:
    response = admin.post("/api/v1/api-keys", json={"name": name, "scope": scope})
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert isinstance(token, str)
    return token


ADMIN_ROUTES = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"email": "new@example.com", "password": "a long passphrase"}),
    ("PATCH", "/api/v1/users/1", {"name": "Ada"}),
    ("GET", "/api/v1/api-keys", None),
    ("POST", "/api/v1/api-keys", {"name": "k", "scope": "read"}),
    ("DELETE", "/api/v1/api-keys/1", None),
    ("GET", "/api/v1/audit", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_members_cannot_manage_users_or_keys(
    web: Web, method: str, path: str, body: dict[str, str] | None
) -> None:
    member = signed_in(web, MEMBER_EMAIL, MEMBER_PASSWORD)
    response = member.request(method, path, json=body)
    assert response.status_code == 403
    assert response.json()["code"] == "admin_required"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
@pytest.mark.parametrize("scope", ["read", "write"])
def test_read_and_write_keys_cannot_manage_either(
    web: Web, method: str, path: str, body: dict[str, str] | None, scope: str
) -> None:
    token = new_key(signed_in(web, ADMIN_EMAIL, ADMIN_PASSWORD), scope)
    response = bearer(web, token).request(method, path, json=body)
    assert response.status_code == 403
    expected = "insufficient_scope" if scope == "read" and method != "GET" else "admin_required"
    assert response.json()["code"] == expected


def test_a_read_key_reads_but_cannot_post(web_any: Web) -> None:
    admin = signed_in(web_any, ADMIN_EMAIL, ADMIN_PASSWORD)
    client = bearer(web_any, new_key(admin, "read"))
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json() | {"id": 0} == {
        "kind": "api_key",
        "id": 0,
        "label": "CRM sync",
        "name": "CRM sync",
        "role": None,
        "scope": "read",
        "can_write": False,
        "is_admin": False,
    }
    refused = client.post("/api/v1/me/password", json={})
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"


def test_an_admin_key_manages_users(web_any: Web) -> None:
    admin = signed_in(web_any, ADMIN_EMAIL, ADMIN_PASSWORD)
    client = bearer(web_any, new_key(admin, "admin", "provisioning"))
    created = client.post(
        "/api/v1/users",
        json={"email": "Nia@Example.com", "password": "nia's long passphrase", "role": "member"},
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "nia@example.com" and "password" not in str(user)
    patched = client.patch(f"/api/v1/users/{user['id']}", json={"role": "admin", "name": "Nia"})
    assert patched.json()["role"] == "admin" and patched.json()["name"] == "Nia"
    listed = client.get("/api/v1/users").json()
    assert [u["email"] for u in listed["items"]] == [ADMIN_EMAIL, MEMBER_EMAIL, "nia@example.com"]
    # A key made by a key belongs to no user.
    made = client.post("/api/v1/api-keys", json={"name": "child", "scope": "read"}).json()
    assert made["created_by_id"] is None
    audit = client.get("/api/v1/audit", params={"action": "user.created"}).json()
    assert audit["items"][0]["actor"]["kind"] == "api_key"
    assert audit["items"][0]["actor"]["label"] == "provisioning"


def test_bad_management_input_is_a_problem_naming_the_field(web: Web) -> None:
    admin = signed_in(web, ADMIN_EMAIL, ADMIN_PASSWORD)
    short = admin.post("/api/v1/users", json={"email": "x@example.com", "password": "short"})
    assert short.status_code == 422 and short.json()["field"] == "password"
    duplicate = admin.post(
        "/api/v1/users", json={"email": MEMBER_EMAIL.upper(), "password": "a long passphrase"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "email"
    unknown = admin.post(
        "/api/v1/users", json={"email": "y@example.com", "password": "x" * 20, "x": 1}
    )
    assert unknown.status_code == 422
    missing = admin.patch("/api/v1/users/99", json={"name": "Nobody"})
    assert missing.status_code == 404
    last_admin = admin.patch("/api/v1/users/1", json={"role": "member"})
    assert last_admin.status_code == 409


def test_the_token_is_returned_once_and_never_again(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = signed_in(web, ADMIN_EMAIL, ADMIN_PASSWORD)
    created = admin.post("/api/v1/api-keys", json={"name": "CI", "scope": "write"})
    token = created.json()["token"]
    secret = token.split("_")[2]
    key_id = created.json()["id"]
    assert bearer(web, token).get("/api/v1/me").status_code == 200
    bodies = [
        admin.get("/api/v1/api-keys").text,
        admin.get("/api/v1/audit").text,
        admin.get("/api/v1/users").text,
        admin.get("/api/v1/me").text,
    ]
    for text in bodies:
        assert secret not in text and ADMIN_PASSWORD not in text
    listed = admin.get("/api/v1/api-keys").json()["items"][0]
    assert listed["prefix"] == token.split("_")[1] and "token" not in listed
    assert listed["last_used_at"] is not None
    assert admin.delete(f"/api/v1/api-keys/{key_id}").status_code == 204
    refused = bearer(web, token).get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="herald", error="invalid_token"'
    for leaked in (secret, ADMIN_PASSWORD, MEMBER_PASSWORD):
        assert leaked not in caplog.text


def test_management_is_audited(web: Web) -> None:
    admin = signed_in(web, ADMIN_EMAIL, ADMIN_PASSWORD)
    key = admin.post("/api/v1/api-keys", json={"name": "CI", "scope": "write"}).json()
    admin.delete(f"/api/v1/api-keys/{key['id']}")
    admin.patch("/api/v1/users/2", json={"is_active": False})
    admin.post("/logout", data={})
    page = signed_in(web, ADMIN_EMAIL, ADMIN_PASSWORD).get("/api/v1/audit", params={"limit": 4})
    body = page.json()
    assert [entry["action"] for entry in body["items"]] == [
        "login.succeeded",
        "logout.succeeded",
        "user.deactivated",
        "api_key.revoked",
    ]
    assert body["next_cursor"] is not None
    revoked = body["items"][3]
    assert revoked["target"] == {"type": "api_key", "id": str(key["id"])}
    assert revoked["actor"]["label"] == ADMIN_EMAIL and revoked["actor"]["client_ip"]
    older = (
        signed_in(web, ADMIN_EMAIL, ADMIN_PASSWORD)
        .get("/api/v1/audit", params={"before": body["next_cursor"], "limit": 500})
        .json()
    )
    assert "api_key.created" in [entry["action"] for entry in older["items"]]


def test_changing_your_password_through_the_api(web: Web) -> None:
    member = signed_in(web, MEMBER_EMAIL, MEMBER_PASSWORD)
    other = signed_in(web, MEMBER_EMAIL, MEMBER_PASSWORD)
    wrong = member.post(
        "/api/v1/me/password",
        json={"current_password": "nope nope nope", "new_password": "a newer passphrase"},
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
    done = member.post(
        "/api/v1/me/password",
        json={"current_password": MEMBER_PASSWORD, "new_password": "a newer passphrase"},
    )
    assert done.status_code == 204
    assert member.get("/api/v1/me").status_code == 200
    assert other.get("/api/v1/me").status_code == 401


def test_an_api_key_has_no_password_to_change(web: Web) -> None:
    token = new_key(signed_in(web, ADMIN_EMAIL, ADMIN_PASSWORD), "write")
    response = bearer(web, token).post(
        "/api/v1/me/password", json={"current_password": "x", "new_password": "y"}
    )
    assert response.status_code == 403 and response.json()["code"] == "user_required"
