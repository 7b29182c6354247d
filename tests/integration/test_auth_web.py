"""Signing in and out in the browser: sessions, expiry, CSRF, redirects, headers."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from herald.clock import CompressedClock, SystemClock
from herald.services.container import Herald
from herald.testing import FakeClock
from herald.web.app import create_app
from herald.web.sessions import COOKIE_NAME, SECURE_COOKIE_NAME
from tests.auth_support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    SETUP,
    add_standard_users,
    csrf_token,
    log_in,
    make_herald,
)

PAGE = {"accept": "text/html,application/xhtml+xml"}


@dataclass
class Web:
    herald: Herald
    app: FastAPI
    client: TestClient
    clock: FakeClock

    def new_client(self) -> TestClient:
        return TestClient(self.app)


def build(database_url: str, data_dir: Path, **settings: Any) -> Iterator[Web]:
    clock = FakeClock()
    herald = make_herald(database_url, data_dir, clock, **settings)
    add_standard_users(herald)
    app = create_app(herald)

    @app.post("/webhooks/test-provider")
    def provider_callback() -> dict[str, str]:
        return {"status": "received"}

    @app.post("/u/test-token")
    def one_click_unsubscribe() -> dict[str, str]:
        return {"status": "unsubscribed"}

    with TestClient(app) as client:
        yield Web(herald, app, client, clock)
    herald.close()


@pytest.fixture
def web(sqlite_url: str, tmp_path: Path) -> Iterator[Web]:
    yield from build(sqlite_url, tmp_path)


@pytest.fixture
def web_any(database_url: str, tmp_path: Path) -> Iterator[Web]:
    yield from build(database_url, tmp_path)


def test_sign_in_and_out(web_any: Web) -> None:
    client = web_any.client
    response = log_in(client, ADMIN_EMAIL, ADMIN_PASSWORD, "/account")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Secure" not in cookie
    page = client.get("/account", headers=PAGE)
    assert page.status_code == 200 and ADMIN_EMAIL in page.text
    assert client.get("/api/v1/me").json()["label"] == ADMIN_EMAIL
    stolen = client.cookies.get(COOKIE_NAME)
    response = client.post(
        "/logout", data={"csrf_token": csrf_token(client, "/account")}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/api/v1/me").status_code == 401
    # A copy of the cookie taken before logging out is worthless too.
    replay = web_any.new_client()
    replay.cookies.set(COOKIE_NAME, stolen or "")
    assert replay.get("/api/v1/me").status_code == 401


def test_wrong_credentials_show_the_form_again(web: Web) -> None:
    response = log_in(web.client, ADMIN_EMAIL, "not the password at all")
    assert response.status_code == 401
    assert "Email or password is not correct." in response.text
    assert 'value="ada@example.com"' in response.text
    assert web.client.get("/api/v1/me").status_code == 401


def test_repeated_failures_are_slowed_in_the_browser(web: Web) -> None:
    for _ in range(5):
        assert log_in(web.client, MEMBER_EMAIL, "not the password at all").status_code == 401
    response = log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert "Too many failed sign-in attempts; try again in 2 seconds." in response.text
    web.clock.advance(timedelta(seconds=2))
    assert log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD).status_code == 303


def test_pages_redirect_to_sign_in_and_back(web: Web) -> None:
    response = web.client.get("/account?tab=keys", headers=PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%3Ftab%3Dkeys"
    login_page = web.client.get(response.headers["location"])
    assert 'name="next" value="/account?tab=keys"' in login_page.text
    signed_in = log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD, "/account?tab=keys")
    assert signed_in.headers["location"] == "/account?tab=keys"
    again = web.client.get("/login?next=/account", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/account"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_sends_the_browser_elsewhere(web: Web, target: str) -> None:
    response = log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD, target)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_idle_sessions_expire(web: Web) -> None:
    log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD)
    web.clock.advance(timedelta(hours=1, minutes=59))
    assert web.client.get("/api/v1/me").status_code == 200  # and refreshes "last seen"
    web.clock.advance(timedelta(hours=1, minutes=59))
    assert web.client.get("/api/v1/me").status_code == 200
    web.clock.advance(timedelta(hours=2))
    response = web.client.get("/account", headers=PAGE)
    assert response.url.path == "/login"
    assert "Your session has ended" in response.text


def test_a_sped_up_journey_clock_does_not_end_sign_ins(sqlite_url: str, tmp_path: Path) -> None:
    """Demos run journeys a day every two seconds; people still get real-time sessions."""
    speedup = 43_200.0  # 0.2 s of real time = 2.4 h of journey time, past the idle limit
    herald = make_herald(sqlite_url, tmp_path, CompressedClock(speedup))
    try:
        assert isinstance(herald.session_clock, SystemClock)
        add_standard_users(herald)
        with TestClient(create_app(herald)) as client:
            log_in(client, MEMBER_EMAIL, MEMBER_PASSWORD)
            time.sleep(0.25)
            assert herald.clock.now() - herald.session_clock.now() > timedelta(hours=2)
            assert client.get("/api/v1/me").status_code == 200
    finally:
        herald.close()


def test_sessions_end_after_twelve_hours_however_active(web: Web) -> None:
    log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD)
    for _ in range(11):
        web.clock.advance(timedelta(hours=1))
        assert web.client.get("/api/v1/me").status_code == 200
    web.clock.advance(timedelta(hours=1))
    assert web.client.get("/api/v1/me").status_code == 401


def test_a_password_change_ends_the_other_sessions_only(web_any: Web) -> None:
    laptop, phone = web_any.client, web_any.new_client()
    log_in(laptop, MEMBER_EMAIL, MEMBER_PASSWORD)
    log_in(phone, MEMBER_EMAIL, MEMBER_PASSWORD)
    response = laptop.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(laptop, "/account"),
            "current_password": MEMBER_PASSWORD,
            "new_password": "a fresh long passphrase",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Password changed." in laptop.get("/account?changed=true").text
    assert phone.get("/api/v1/me").status_code == 401
    assert laptop.get("/api/v1/me").status_code == 200


def test_a_wrong_current_password_is_shown_on_the_page(web: Web) -> None:
    log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD)
    response = web.client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(web.client, "/account"),
            "current_password": "wrong wrong wrong",
            "new_password": "a fresh long passphrase",
        },
    )
    assert response.status_code == 400
    assert "The current password is not correct." in response.text


def test_a_deactivated_user_is_signed_out_at_the_next_request(web: Web) -> None:
    log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD)
    with web.herald.sessions() as session:
        user = web.herald.users.find_user(session, MEMBER_EMAIL)
        assert user is not None
        web.herald.users.deactivate_user(session, user.id, actor=SETUP)
    assert web.client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login", {"email": MEMBER_EMAIL, "password": MEMBER_PASSWORD}),
        ("/logout", {}),
        ("/account/password", {"current_password": MEMBER_PASSWORD, "new_password": "x" * 20}),
    ],
)
@pytest.mark.parametrize("token", [None, "forged-token-value"])
def test_forms_without_the_session_token_are_refused(
    web: Web, path: str, data: dict[str, str], token: str | None
) -> None:
    log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD)
    body = data | ({"csrf_token": token} if token else {})
    response = web.client.post(path, data=body, follow_redirects=False)
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert web.client.get("/api/v1/me").status_code == 200  # nothing happened


def test_a_token_from_another_session_is_refused(web: Web) -> None:
    other = web.new_client()
    log_in(other, ADMIN_EMAIL, ADMIN_PASSWORD)
    token_of_other = csrf_token(other, "/account")
    log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD)
    response = web.client.post("/logout", data={"csrf_token": token_of_other})
    assert response.status_code == 403


def test_browser_forms_get_an_html_refusal(web: Web) -> None:
    response = web.client.post("/logout", data={}, headers=PAGE)
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "reload the page" in response.text


def test_scripts_send_the_token_in_a_header(web: Web) -> None:
    log_in(web.client, ADMIN_EMAIL, ADMIN_PASSWORD)
    body = {"name": "From a script", "scope": "read"}
    assert web.client.post("/api/v1/api-keys", json=body).status_code == 403
    token = csrf_token(web.client, "/account")
    response = web.client.post("/api/v1/api-keys", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 201


def test_webhooks_and_unsubscribe_links_need_neither_sign_in_nor_token(web: Web) -> None:
    client = web.new_client()
    assert client.post("/webhooks/test-provider", json={}).json() == {"status": "received"}
    # The real unsubscribe route answers an unknown token with its own 404
    # page: reached without sign-in (the guard would answer 401 or redirect).
    response = client.post("/u/test-token", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


def test_public_routes_stay_public(web: Web) -> None:
    client = web.new_client()
    for path in (
        "/healthz",
        "/readyz?check=database",
        "/login",
        "/static/herald.css",
        "/api/v1/openapi.json",
    ):
        assert client.get(path).status_code == 200, path


def test_every_other_route_refuses_anonymous_callers(web: Web) -> None:
    public = {"/healthz", "/readyz", "/login", "/logout"}
    exempt = ("/webhooks/", "/u/")
    pages = [("GET", "/"), ("GET", "/account"), ("POST", "/account/password")]
    operations = pages + [
        (method.upper(), path)
        for path, item in web.app.openapi()["paths"].items()
        for method in item
    ]
    client = web.new_client()
    checked = 0
    for method, template in operations:
        if template in public or template.startswith(exempt):
            continue
        path = re.sub(r"\{[a-z_]+\}", "1", template)
        response = client.request(method, path, json={})
        assert response.status_code == 401, f"{method} {path}"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["code"] == "unauthenticated"
        checked += 1
    assert checked >= 12


def test_the_schema_declares_bearer_authentication(web: Web) -> None:
    schema = web.client.get("/api/v1/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert schema["security"] == [{"bearerAuth": []}]
    assert schema["paths"]["/healthz"]["get"]["security"] == []
    assert "security" not in schema["paths"]["/api/v1/users"]["get"]


@pytest.mark.parametrize("path", ["/login", "/api/v1/me", "/static/herald.css", "/healthz"])
def test_security_headers_everywhere(web: Web, path: str) -> None:
    headers = web.client.get(path).headers
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers


def test_pages_are_not_cached_and_use_no_inline_script(web: Web) -> None:
    response = web.client.get("/login")
    assert response.headers["cache-control"] == "no-store"
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", response.text, re.S)
    assert scripts and all(body.strip() == "" for body in scripts)
    assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None
    assert re.search(r"\son[a-z]+=", response.text) is None
    assert '<label for="email">' in response.text and '<label for="password">' in response.text


def test_https_deployments_get_secure_cookies_and_hsts(sqlite_url: str, tmp_path: Path) -> None:
    for web in build(sqlite_url, tmp_path, public_base_url="https://herald.example.com"):
        client = TestClient(web.app, base_url="https://herald.example.com")
        response = log_in(client, MEMBER_EMAIL, MEMBER_PASSWORD)
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SECURE_COOKIE_NAME}=") and "; Secure" in cookie
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert client.get("/api/v1/me").status_code == 200


def test_no_password_or_cookie_reaches_the_logs(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    log_in(web.client, MEMBER_EMAIL, "a wrong but secret guess")
    log_in(web.client, MEMBER_EMAIL, MEMBER_PASSWORD)
    web.client.get("/account")
    cookie = web.client.cookies.get(COOKIE_NAME)
    assert cookie
    for secret in (MEMBER_PASSWORD, "a wrong but secret guess", cookie):
        assert secret not in caplog.text
