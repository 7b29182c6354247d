"""Settings: users, API keys and the audit log; members read, only admins change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.services.users import UserView
from tests.admin_pages_support import PAGE, Pages, assert_clean_page, build_pages, post_form
from tests.auth_support import ADMIN_EMAIL, MEMBER_EMAIL


@pytest.fixture
def pages(database_url: str, tmp_path: Path) -> Iterator[Pages]:
    yield from build_pages(database_url, tmp_path)


def user(pages: Pages, email: str) -> UserView:
    with pages.herald.sessions() as session:
        found = pages.herald.users.find_user(session, email)
    assert found is not None
    return found


def create_key(pages: Pages, name: str = "CRM sync", scope: str = "write") -> str:
    response = post_form(pages.admin, "/settings/api-keys", {"name": name, "scope": scope})
    assert response.status_code == 200
    token = re.search(r'id="api-key-token">([^<]+)<', response.text)
    assert token
    return token.group(1)


def test_settings_pages_need_a_signed_in_user(pages: Pages) -> None:
    for path in ("/settings", "/settings/api-keys", "/settings/audit"):
        response = pages.anonymous.get(path, headers=PAGE, follow_redirects=False)
        assert response.status_code == 303, path


def test_members_see_users_and_keys_read_only(pages: Pages) -> None:
    create_key(pages)
    users = pages.member.get("/settings", headers=PAGE)
    assert users.status_code == 200
    assert_clean_page(users.text)
    assert ADMIN_EMAIL in users.text and "only admins manage them" in users.text
    assert "<form" not in users.text.split("<main")[1].replace('action="/logout"', "")
    keys = pages.member.get("/settings/api-keys", headers=PAGE).text
    assert "CRM sync" in keys and "Revoke" not in keys and "Create an API key" not in keys
    assert 'href="/settings/audit"' not in keys


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/settings/users", {"email": "eve@example.com", "password": "x" * 20, "role": "admin"}),
        ("/settings/users/1/role", {"role": "member"}),
        ("/settings/users/1/deactivate", {}),
        ("/settings/users/2/activate", {}),
        ("/settings/api-keys", {"name": "Mine", "scope": "admin"}),
        ("/settings/api-keys/1/revoke", {}),
    ],
)
def test_members_are_refused_every_admin_action(
    pages: Pages, url: str, data: dict[str, str]
) -> None:
    create_key(pages)
    response = post_form(pages.member, url, data, page="/settings")
    assert response.status_code == 403
    assert "Not allowed" in response.text and "Only admins can do this" in response.text
    assert user(pages, ADMIN_EMAIL).role.value == "admin"
    assert user(pages, ADMIN_EMAIL).is_active
    with pages.herald.sessions() as session:
        assert [k.name for k in pages.herald.api_keys.list_keys(session)] == ["CRM sync"]
        assert pages.herald.users.find_user(session, "eve@example.com") is None


def test_members_cannot_read_the_audit_log(pages: Pages) -> None:
    response = pages.member.get("/settings/audit", headers=PAGE)
    assert response.status_code == 403 and "Only admins can do this" in response.text


def test_admin_forms_need_the_csrf_token(pages: Pages) -> None:
    for url in ("/settings/users", "/settings/api-keys", "/settings/users/2/deactivate"):
        response = pages.admin.post(url, data={"name": "x", "email": "e@example.com"}, headers=PAGE)
        assert response.status_code == 403 and "reload the page" in response.text
    assert user(pages, MEMBER_EMAIL).is_active


def test_admins_create_users_change_roles_and_deactivate(pages: Pages) -> None:
    form = {"email": "Eve@Example.com", "name": "Eve", "role": "member", "password": "e" * 16}
    response = post_form(pages.admin, "/settings/users", form, page="/settings")
    assert response.headers["location"] == "/settings?notice=user_created"
    eve = user(pages, "eve@example.com")
    assert (eve.name, eve.role.value, eve.is_active) == ("Eve", "member", True)
    html = pages.admin.get("/settings?notice=user_created", headers=PAGE).text
    assert_clean_page(html)
    assert "User created." in html and 'data-user="eve@example.com"' in html
    post_form(pages.admin, f"/settings/users/{eve.id}/role", {"role": "admin"}, page="/settings")
    assert user(pages, "eve@example.com").role.value == "admin"
    response = post_form(pages.admin, f"/settings/users/{eve.id}/deactivate", page="/settings")
    assert response.headers["location"] == "/settings?notice=deactivated"
    assert not user(pages, "eve@example.com").is_active
    post_form(pages.admin, f"/settings/users/{eve.id}/activate", page="/settings")
    assert user(pages, "eve@example.com").is_active


def test_user_errors_are_shown_with_the_field(pages: Pages) -> None:
    short = {"email": "zoe@example.com", "name": "Zoe", "role": "member", "password": "short"}
    response = post_form(pages.admin, "/settings/users", short, page="/settings")
    assert response.status_code == 422 and "at least 12 characters" in response.text
    assert (
        'value="zoe@example.com"' in response.text
        and "short" not in response.text.split('id="user-password"')[1].split(">")[0]
    )
    taken = short | {"email": MEMBER_EMAIL, "password": "p" * 16}
    assert post_form(pages.admin, "/settings/users", taken, page="/settings").status_code == 409
    bad_role = short | {"password": "p" * 16, "role": "owner"}
    response = post_form(pages.admin, "/settings/users", bad_role, page="/settings")
    assert response.status_code == 422 and "unknown role" in response.text.lower()
    admin = user(pages, ADMIN_EMAIL)
    last = post_form(pages.admin, f"/settings/users/{admin.id}/deactivate", page="/settings")
    assert last.status_code == 409 and "last active admin" in last.text
    assert user(pages, ADMIN_EMAIL).is_active


def test_an_api_key_is_shown_once_works_and_can_be_revoked(pages: Pages) -> None:
    token = create_key(pages, "CRM sync", "read")
    assert token.startswith("hk_")
    me = pages.anonymous.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["label"] == "CRM sync"
    listing = pages.admin.get("/settings/api-keys", headers=PAGE).text
    assert_clean_page(listing)
    assert token not in listing and token.split("_")[1] in listing
    assert 'data-confirm="Revoke the API key CRM sync?' in listing
    assert re.search(r'<script src="[^"]*/static/admin\.js" defer></script>', listing)
    with pages.herald.sessions() as session:
        [key] = pages.herald.api_keys.list_keys(session)
    response = post_form(
        pages.admin, f"/settings/api-keys/{key.id}/revoke", page="/settings/api-keys"
    )
    assert response.headers["location"] == "/settings/api-keys?notice=revoked"
    assert 'data-status="revoked"' in pages.admin.get("/settings/api-keys", headers=PAGE).text
    me = pages.anonymous.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 401
    empty = post_form(pages.admin, "/settings/api-keys", {"name": " ", "scope": "read"})
    assert empty.status_code == 422 and "needs a name" in empty.text
    bad = post_form(pages.admin, "/settings/api-keys", {"name": "x", "scope": "root"})
    assert bad.status_code == 422 and "Unknown scope" in bad.text


def test_the_audit_log_pages_newest_first_and_filters_by_action(pages: Pages) -> None:
    for index in range(3):
        create_key(pages, f"key {index}")
    for index in range(55):
        form = {"email": f"u{index}@example.com", "role": "member", "password": "p" * 16}
        post_form(pages.admin, "/settings/users", form, page="/settings")
    first = pages.admin.get("/settings/audit", headers=PAGE)
    assert_clean_page(first.text)
    assert first.text.index("u54@example.com") < first.text.index("u53@example.com")
    next_url = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_url
    second = pages.admin.get(next_url.group(1).replace("&amp;", "&"), headers=PAGE).text
    assert "key 0" in second and "u54@example.com" not in second
    keys = pages.admin.get("/settings/audit?action=api_key.created", headers=PAGE).text
    assert keys.count("api_key.created</td>") == 3 and "user.created</td>" not in keys
