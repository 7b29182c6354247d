"""Helpers for authentication tests: a Herald with cheap hashing, users, signed-in clients."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from herald.clock import Clock
from herald.domain.audit import Actor
from herald.domain.users import Role
from herald.services.container import Herald
from herald.services.users import UserView
from herald.settings import Settings
from herald.testing import FakeClock, fast_passwords

ADMIN_EMAIL = "ada@example.com"
ADMIN_PASSWORD = "ada's very long passphrase"
MEMBER_EMAIL = "max@example.com"
MEMBER_PASSWORD = "max's very long passphrase"
SETUP = Actor.cli("test-setup")
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_herald(
    database_url: str, data_dir: Path, clock: Clock | None = None, **settings: Any
) -> Herald:
    return Herald.create(
        Settings(database_url=database_url, data_dir=data_dir, **settings),
        clock or FakeClock(),
        passwords=fast_passwords(),
        migrate=False,  # the test databases come migrated
    )


def add_user(herald: Herald, email: str, password: str, role: Role = Role.MEMBER) -> UserView:
    with herald.sessions() as session:
        return herald.users.create_user(
            session, email=email, password=password, role=role, actor=SETUP
        )


def add_standard_users(herald: Herald) -> tuple[UserView, UserView]:
    return (
        add_user(herald, ADMIN_EMAIL, ADMIN_PASSWORD, Role.ADMIN),
        add_user(herald, MEMBER_EMAIL, MEMBER_PASSWORD),
    )


def csrf_token(client: TestClient, page: str = "/login") -> str:
    match = _CSRF_FIELD.search(client.get(page).text)
    assert match, f"no CSRF field on {page}"
    return match.group(1)


def log_in(client: TestClient, email: str, password: str, next_page: str = "/") -> Any:
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": next_page},
        follow_redirects=False,
    )
