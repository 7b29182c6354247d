"""Secrets never leave Herald: integration tokens, SMTP passwords, LLM keys, API key secrets
and webhook signing secrets appear in no API response (other than the one that creates
them, where that is the point) and in no log line, with logging at DEBUG and SQL echoed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.api_support import Api, build_api
from tests.support.engine import INFOBIP, WHATSAPP

SMTP_PASSWORD = "smtp-pa55word-do-not-leak"
UNSUBSCRIBE_SECRET = "unsubscribe-secret-do-not-leak-0123"
LLM_KEY = "sk-llm-key-do-not-leak-0123456789"
SMTP = {
    "host": "127.0.0.1",
    "port": 2525,
    "security": "none",
    "username": "herald",
    "password": SMTP_PASSWORD,
    "from_address": "clinic@example.com",
    "unsubscribe_secret": UNSUBSCRIBE_SECRET,
}


@pytest.fixture
def api(database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Api]:
    caplog.set_level(logging.DEBUG)
    # SQL with its parameters, the most likely place for a secret to slip out.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        yield from build_api(database_url, tmp_path)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def secrets_of_integrations() -> list[str]:
    return [
        str(WHATSAPP["access_token"]),
        str(WHATSAPP["app_secret"]),
        str(WHATSAPP["webhook_verify_token"]),
        str(INFOBIP["api_key"]),
        str(INFOBIP["webhook_secret"]),
        SMTP_PASSWORD,
        UNSUBSCRIBE_SECRET,
    ]


def test_no_secret_in_any_response_or_log(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERALD_LLM_API_KEY", LLM_KEY)
    admin, reader = api.client("admin"), api.client("read")
    responses = []
    for name, kind, settings in (
        ("wa", "whatsapp", WHATSAPP),
        ("sms", "infobip_sms", INFOBIP),
        ("mail", "email_smtp", SMTP),
    ):
        created = admin.post(
            "/api/v1/integrations", json={"name": name, "kind": kind, "settings": settings}
        )
        assert created.status_code == 201, created.text
        responses.append(created)
        responses.append(
            admin.patch(f"/api/v1/integrations/{created.json()['id']}", json={"settings": settings})
        )
        responses.append(admin.post(f"/api/v1/integrations/{created.json()['id']}/test"))
    # A bad update names the field without echoing the value.
    responses.append(
        admin.patch("/api/v1/integrations/1", json={"settings": {"access_token": 12345}})
    )
    llm = admin.post(
        "/api/v1/agents",
        json={
            "name": "LLM desk",
            "kind": "llm",
            "config": {
                "base_url": "http://127.0.0.1:9/v1",
                "model": "m",
                "api_key_env": "HERALD_LLM_API_KEY",
                "system_prompt": "Be brief.",
            },
        },
    )
    assert llm.status_code == 201, llm.text
    responses.append(llm)
    # A key pasted into the configuration is refused, and not repeated back.
    responses.append(
        admin.post(
            "/api/v1/agents",
            json={
                "name": "Leaky",
                "kind": "llm",
                "config": {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": LLM_KEY},
            },
        )
    )
    key = admin.post("/api/v1/api-keys", json={"name": "CI", "scope": "write"})
    key_secret = key.json()["token"].split("_")[2]
    hook = admin.post(
        "/api/v1/webhooks", json={"url": "https://crm.example.com/h", "events": ["reply.received"]}
    )
    hook_secret = hook.json()["secret"]
    for path in (
        "/api/v1/integrations",
        "/api/v1/integrations/1",
        "/api/v1/integrations/2",
        "/api/v1/integrations/3",
        "/api/v1/agents",
        "/api/v1/api-keys",
        "/api/v1/webhooks",
        "/api/v1/webhooks/1",
        "/api/v1/audit",
        "/api/v1/me",
    ):
        responses.append(admin.get(path))
        responses.append(reader.get(path))
    secrets = [*secrets_of_integrations(), LLM_KEY, key_secret, hook_secret]
    for response in responses:
        for secret in secrets:
            assert secret not in response.text, (response.request.url, secret)
    logged = caplog.text
    assert "INSERT INTO integrations" in logged  # SQL was really captured
    for secret in [*secrets, *api.tokens.values()]:
        assert secret not in logged, secret


def test_a_used_api_key_token_is_not_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    for scope in ("read", "write", "admin"):
        assert api.client(scope).get("/api/v1/me").status_code == 200
    api.client(None).get("/api/v1/me", headers={"Authorization": "Bearer hk_abcdefgh_" + "x" * 40})
    for token in api.tokens.values():
        assert token.split("_")[2] not in caplog.text
    assert "x" * 40 not in caplog.text


def test_replayed_creations_show_their_secret_again_but_never_store_it_in_clear(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    admin = api.client("admin")
    headers = {"Idempotency-Key": "hook-1"}
    body = {"url": "https://crm.example.com/h", "events": ["campaign.sent"]}
    first = admin.post("/api/v1/webhooks", json=body, headers=headers)
    again = admin.post("/api/v1/webhooks", json=body, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["secret"] == first.json()["secret"]
    key_headers = {"Idempotency-Key": "key-1"}
    key = admin.post("/api/v1/api-keys", json={"name": "CI", "scope": "read"}, headers=key_headers)
    replayed = admin.post(
        "/api/v1/api-keys", json={"name": "CI", "scope": "read"}, headers=key_headers
    )
    assert replayed.json()["token"] == key.json()["token"]
    assert len(admin.get("/api/v1/api-keys").json()["items"]) == 4  # 3 standard keys + CI
    with api.herald.engine.connect() as connection:
        stored = b"".join(
            row[0] for row in connection.execute(text("SELECT response_body FROM idempotency_keys"))
        )
    for secret in (first.json()["secret"], key.json()["token"].split("_")[2]):
        assert secret.encode() not in stored
        assert secret not in caplog.text
