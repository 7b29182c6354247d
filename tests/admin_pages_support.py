"""Signed-in test clients for the administration pages (home, integrations, agents,
suppression, settings): an admin, a member, and the CSRF token of a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from herald.services.container import Herald
from herald.testing import FakeClock
from herald.web.app import create_app
from tests.auth_support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    add_standard_users,
    log_in,
    make_herald,
)

PAGE = {"accept": "text/html,application/xhtml+xml"}
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Pages:
    """A Herald app with an admin client, a member client and an anonymous one."""

    herald: Herald
    app: FastAPI
    admin: TestClient
    member: TestClient
    anonymous: TestClient
    clock: FakeClock


def build_pages(database_url: str, data_dir: Path) -> Iterator[Pages]:
    clock = FakeClock()
    herald = make_herald(database_url, data_dir, clock)
    add_standard_users(herald)
    app = create_app(herald)
    with TestClient(app) as admin, TestClient(app) as member, TestClient(app) as anonymous:
        assert log_in(admin, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
        assert log_in(member, MEMBER_EMAIL, MEMBER_PASSWORD).status_code == 303
        yield Pages(herald, app, admin, member, anonymous, clock)
    herald.close()


def csrf_of(client: TestClient, page: str = "/") -> str:
    match = _CSRF_FIELD.search(client.get(page, headers=PAGE).text)
    assert match, f"no CSRF field on {page}"
    return match.group(1)


def post_form(
    client: TestClient, url: str, data: dict[str, Any] | None = None, *, page: str = "/", **kw: Any
) -> Any:
    """POST a form as a browser does: the page's CSRF token, HTML accepted, no redirects."""
    form = {"csrf_token": csrf_of(client, page)} | (data or {})
    return client.post(url, data=form, headers=PAGE, follow_redirects=False, **kw)


_INPUT = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')


def assert_clean_page(html: str) -> None:
    """Herald's page rules: no inline script, handler or style; every field labelled."""
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, "inline <script>"
    assert re.search(r"\son[a-z]+=", html) is None, "inline event handler"
    assert re.search(r"\sstyle=", html) is None, "inline style attribute"
    for _tag, attributes in _INPUT.findall(html):
        if 'type="hidden"' in attributes:
            continue
        found = _ID.search(attributes)
        assert found, f"a field without an id: {attributes.strip()[:80]}"
        assert f'for="{found.group(1)}"' in html, f"no label for #{found.group(1)}"
