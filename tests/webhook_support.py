"""Shared pieces of the webhook tests: Herald on loopback and sandbox-ready integrations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx2 as httpx
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from herald.channels.sandbox.scenario import SandboxCredentials
from herald.domain.channels import IntegrationKind
from herald.domain.ids import IntegrationId
from herald.services.container import Herald
from herald.settings import Settings
from herald.store.inbox import ProviderEventRow
from herald.store.suppression import SuppressionRow

CREDENTIALS = SandboxCredentials()
PUBLIC_BASE_URL = "https://herald.example.test"
VERIFY_TOKEN = "herald-verify-token-0123"
UNSUBSCRIBE_SECRET = "unsubscribe-secret-for-webhooks-01"


def make_herald(database_url: str, data_dir: Path, **settings: Any) -> Herald:
    values: dict[str, Any] = {"database_url": database_url, "data_dir": data_dir}
    # The test databases are copies of a migrated template: no migration to run.
    return Herald.create(Settings(**(values | settings)), migrate=False)


def whatsapp_settings(graph_base_url: str = "http://127.0.0.1:9", **extra: Any) -> dict[str, Any]:
    return {
        "graph_base_url": graph_base_url,
        "phone_number_id": CREDENTIALS.whatsapp_phone_number_id,
        "waba_id": CREDENTIALS.whatsapp_business_account_id,
        "access_token": CREDENTIALS.whatsapp_access_token,
        "app_secret": CREDENTIALS.whatsapp_app_secret,
        "webhook_verify_token": VERIFY_TOKEN,
    } | extra


def infobip_settings(
    base_url: str = "http://127.0.0.1:9", notify_url_base: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "api_key": CREDENTIALS.infobip_api_key,
        "sender": CREDENTIALS.infobip_number,
        "webhook_secret": CREDENTIALS.infobip_webhook_secret,
        "notify_url_base": notify_url_base,
    } | extra


def twilio_settings(
    api_base_url: str = "http://127.0.0.1:9",
    public_base_url: str = PUBLIC_BASE_URL,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "api_base_url": api_base_url,
        "account_sid": CREDENTIALS.twilio_account_sid,
        "auth_token": CREDENTIALS.twilio_auth_token,
        "caller_id": CREDENTIALS.twilio_number,
        "public_base_url": public_base_url,
    } | extra


def email_settings(
    port: int = 2525, public_base_url: str = PUBLIC_BASE_URL, **extra: Any
) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "username": CREDENTIALS.smtp_username,
        "password": CREDENTIALS.smtp_password,
        "from_address": "orders@mail.example.test",
        "reply_to_address": "reply@inbound.example.test",
        "reply_plus_addressing": True,
        "bounce_address": "bounce@mail.example.test",
        "public_base_url": public_base_url,
        "unsubscribe_secret": UNSUBSCRIBE_SECRET,
        "inbound_webhook_secret": CREDENTIALS.inbound_email_secret,
    } | extra


SETTINGS_OF_KIND = {
    IntegrationKind.WHATSAPP: whatsapp_settings,
    IntegrationKind.INFOBIP_SMS: infobip_settings,
    IntegrationKind.TWILIO_VOICE: twilio_settings,
    IntegrationKind.EMAIL_SMTP: email_settings,
}


def add_integration(
    herald: Herald, kind: IntegrationKind, name: str | None = None, **settings: Any
) -> IntegrationId:
    with herald.sessions() as session:
        view = herald.integrations.create(
            session,
            name=name or kind.value,
            kind=kind,
            settings=SETTINGS_OF_KIND[kind](**settings),
        )
    return view.id


def event_rows(herald: Herald) -> list[ProviderEventRow]:
    with herald.sessions() as session:
        rows = session.scalars(select(ProviderEventRow).order_by(ProviderEventRow.id)).all()
        session.expunge_all()
        return list(rows)


def count_rows(herald: Herald) -> tuple[int, int]:
    """(provider events, suppressions): both must stay 0 after a refused request."""
    with herald.sessions() as session:
        events = session.scalar(select(func.count()).select_from(ProviderEventRow))
        suppressions = session.scalar(select(func.count()).select_from(SuppressionRow))
        return int(events or 0), int(suppressions or 0)


@contextmanager
def serve(build: Callable[[str], FastAPI]) -> Iterator[str]:
    """Run the app ``build(base_url)`` returns with uvicorn on an ephemeral loopback port.

    The port is bound first so the app can be configured with its own public
    URL (Twilio signatures cover it). Yields the base URL; stops the server
    on exit.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        build(base_url), log_level="warning", access_log=False, lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        started = threading.Event()
        for _ in range(1000):
            if server.started or not thread.is_alive():
                break
            started.wait(0.005)
        assert server.started, "uvicorn did not start"
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# --- hand-built provider requests ----------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "providers"
FIXTURE_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"  # the Twilio fixtures' account


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass(frozen=True)
class Call:
    """One request as a provider would send it (or a forger would try)."""

    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    def send(self, client: TestClient) -> httpx.Response:
        return client.request(self.method, self.path, content=self.body, headers=self.headers)


def hub_signature(body: bytes, secret: str = CREDENTIALS.whatsapp_app_secret) -> str:
    """Meta's X-Hub-Signature-256, computed here independently of Herald's code."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def whatsapp_call(body: bytes, signature: str | None = None) -> Call:
    headers = {"Content-Type": "application/json"}
    headers["X-Hub-Signature-256"] = hub_signature(body) if signature is None else signature
    return Call("/webhooks/whatsapp", body, {k: v for k, v in headers.items() if v})


def basic(secret: str, user: str = "provider") -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def infobip_call(
    path: str,
    body: bytes,
    secret: str | None = CREDENTIALS.infobip_webhook_secret,
    place: str = "query",
) -> Call:
    headers = {"Content-Type": "application/json"}
    if secret is not None and place == "query":
        path = f"{path}?{urlencode({'secret': secret})}"
    elif secret is not None and place == "basic":
        headers["Authorization"] = basic(secret)
    elif secret is not None:
        headers["X-Herald-Webhook-Secret"] = secret
    return Call(path, body, headers)


def twilio_call(
    path: str,
    form: bytes,
    query: str = "key=c42%3Aj9001%3As0&lang=es-ES",
    *,
    token: str = CREDENTIALS.twilio_auth_token,
    signed_base: str = PUBLIC_BASE_URL,
    signed_form: bytes | None = None,
    signed_query: str | None = None,
    signature: str | None = None,
) -> Call:
    """A Twilio callback signed with the official SDK's algorithm over ``signed_base``."""
    signed_query = query if signed_query is None else signed_query
    url = f"{signed_base}{path}?{signed_query}" if signed_query else f"{signed_base}{path}"
    params = dict(parse_qsl((signed_form or form).decode(errors="replace"), keep_blank_values=True))
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature:
        headers["X-Twilio-Signature"] = signature
    return Call(f"{path}?{query}" if query else path, form, headers)


def email_call(
    path: str,
    body: bytes,
    secret: str | None = CREDENTIALS.inbound_email_secret,
    place: str = "header",
    content_type: str = "application/json",
) -> Call:
    headers = {"Content-Type": content_type}
    if secret is not None and place == "basic":
        headers["Authorization"] = basic(secret, "postmark")
    elif secret is not None:
        headers["X-Herald-Webhook-Secret"] = secret
    return Call(path, body, headers)
