"""A signed-in browser client on a Herald with integrations, for the builder page tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from herald.domain.users import Role
from herald.services.container import Herald
from herald.testing import FakeClock
from herald.web.app import create_app
from tests.auth_support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    add_standard_users,
    csrf_token,
    log_in,
    make_herald,
)

PAGE = {"accept": "text/html,application/xhtml+xml"}
MESSY_CSV = Path(__file__).parents[2] / "src" / "herald" / "samples" / "messy-excel-export.csv"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SANDBOX_URL = "http://127.0.0.1:9"


@dataclass
class BuilderWeb:
    herald: Herald
    client: TestClient
    anonymous: TestClient
    clock: FakeClock
    token: str

    def post(self, url: str, data: dict[str, object] | None = None, **kwargs: object) -> object:
        form = {"csrf_token": self.token} | (data or {})
        return self.client.post(url, data=form, follow_redirects=False, **kwargs)  # type: ignore[arg-type]

    def new_draft(self, name: str = "Spring check-ups") -> int:
        with self.herald.sessions() as db:
            return int(self.herald.campaigns.create_draft(db, name=name).id)


def build_web(
    database_url: str, data_dir: Path, *, role: Role = Role.ADMIN, **settings: Any
) -> Iterator[BuilderWeb]:
    clock = FakeClock()
    herald = make_herald(database_url, data_dir, clock, **settings)
    add_standard_users(herald)
    _add_integrations(herald)
    app = create_app(herald)
    email, password = (
        (ADMIN_EMAIL, ADMIN_PASSWORD) if role is Role.ADMIN else (MEMBER_EMAIL, MEMBER_PASSWORD)
    )
    with TestClient(app, headers=PAGE) as client, TestClient(app, headers=PAGE) as anonymous:
        response = log_in(client, email, password)
        assert response.status_code == 303
        token = csrf_token(client, "/account")
        yield BuilderWeb(herald, client, anonymous, clock, token)
    herald.close()


def _add_integrations(herald: Herald) -> None:
    """One integration of each phone kind, and one switched off (not offered in the builder)."""
    from herald.services.demo import integration_settings

    settings = integration_settings(SANDBOX_URL, "http://127.0.0.1:8")
    with herald.sessions() as db:
        for name, (kind, values) in settings.items():
            herald.integrations.create(db, name=name, kind=kind, settings=values)
        kind, values = settings["demo-sms"]
        herald.integrations.create(db, name="old-sms", kind=kind, settings=values, is_active=False)


def assert_no_inline_code(html: str) -> None:
    """The CSP allows only Herald's own files: no inline script, handler or style."""
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert re.search(r"\son[a-z]+\s*=", html) is None
    assert re.search(r"\sstyle\s*=", html) is None
    assert "<style" not in html
