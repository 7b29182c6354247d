"""The webhook endpoints with hand-built requests: who is refused, what is stored, once.

Signatures are computed here independently (hmac for Meta, the official
``twilio`` package for Twilio), never with Herald's own helpers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from herald.channels.sandbox import smtp as sandbox_smtp
from herald.channels.sandbox import whatsapp_webhooks as sandbox_whatsapp
from herald.domain.channels import IntegrationKind
from herald.services.container import Herald
from herald.services.webhook_intake import WebhookIntake
from herald.web.app import create_app
from herald.web.webhooks.providers import PROVIDER_PATHS
from tests.webhook_support import (
    FIXTURE_ACCOUNT_SID,
    PUBLIC_BASE_URL,
    Call,
    add_integration,
    count_rows,
    email_call,
    event_rows,
    fixture,
    hub_signature,
    infobip_call,
    make_herald,
    twilio_call,
    whatsapp_call,
)

LIMIT = 64 * 1024
EMAIL_LIMIT = 128 * 1024
WA_DELIVERED = fixture("whatsapp/status_delivered.json")
WA_INBOUND = fixture("whatsapp/inbound_text.json")
IB_DELIVERED = fixture("infobip/dlr-v3-delivered.json")
IB_INBOUND = fixture("infobip/mo-text.json")
TW_COMPLETED = fixture("twilio/status-completed-human.form")
TW_GATHER = fixture("twilio/gather-digits.form")
EMAIL_GENERIC = fixture("email/generic_inbound.json")
EMAIL_POSTMARK = fixture("email/postmark_inbound.json")
EMAIL_DSN = fixture("email/dsn_hard_bounce.eml")


def _herald(database_url: str, tmp_path: Path) -> Herald:
    herald = make_herald(
        database_url,
        tmp_path,
        public_base_url=PUBLIC_BASE_URL,
        webhook_max_body_bytes=LIMIT,
        email_webhook_max_body_bytes=EMAIL_LIMIT,
    )
    add_integration(herald, IntegrationKind.WHATSAPP)
    add_integration(herald, IntegrationKind.INFOBIP_SMS)
    add_integration(
        herald,
        IntegrationKind.TWILIO_VOICE,
        account_sid=FIXTURE_ACCOUNT_SID,
        public_base_url="https://old-name.example.test",
    )
    add_integration(herald, IntegrationKind.EMAIL_SMTP)
    return herald


@dataclass
class App:
    herald: Herald
    client: TestClient
    web: FastAPI


def _app(herald: Herald) -> Iterator[App]:
    web = create_app(herald)
    with TestClient(web) as client:
        yield App(herald, client, web)
    herald.close()


@pytest.fixture
def app(sqlite_url: str, tmp_path: Path) -> Iterator[App]:
    yield from _app(_herald(sqlite_url, tmp_path))


@pytest.fixture
def app_on_each_backend(database_url: str, tmp_path: Path) -> Iterator[App]:
    yield from _app(_herald(database_url, tmp_path))


def _tampered(body: bytes) -> bytes:
    return body.replace(b'"delivered"', b'"read"', 1)


def _padded_json(size: int) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "pad": "x" * size}).encode()


# Every refusal: (call, HTTP status, problem code, field named).
REFUSALS: dict[str, tuple[Call, int, str, str | None]] = {
    "whatsapp unsigned": (
        whatsapp_call(WA_DELIVERED, signature=""),
        401, "webhook_unauthenticated", "X-Hub-Signature-256",
    ),
    "whatsapp signed with another secret": (
        whatsapp_call(WA_DELIVERED, hub_signature(WA_DELIVERED, "not-the-app-secret")),
        403, "webhook_forbidden", "X-Hub-Signature-256",
    ),
    "whatsapp tampered body": (
        whatsapp_call(_tampered(WA_DELIVERED), hub_signature(WA_DELIVERED)),
        403, "webhook_forbidden", "X-Hub-Signature-256",
    ),
    "whatsapp sha1 signature": (
        whatsapp_call(WA_DELIVERED, "sha1=" + "0" * 40),
        403, "webhook_forbidden", "X-Hub-Signature-256",
    ),
    "whatsapp malformed json": (whatsapp_call(b'{"object": '), 400, "invalid", "body"),
    "whatsapp wrong object": (
        whatsapp_call(b'{"object": "page", "entry": []}'), 400, "invalid", "object",
    ),
    "whatsapp status without id": (
        whatsapp_call(WA_DELIVERED.replace(b'"id": "wamid.', b'"idx": "wamid.', 1)),
        400, "invalid", "entry[0].changes[0].value.statuses[0].id",
    ),
    "whatsapp oversized": (
        whatsapp_call(_padded_json(LIMIT)), 413, "payload_too_large", "body",
    ),
    "infobip no secret": (
        infobip_call("/webhooks/infobip/delivery", IB_DELIVERED, secret=None),
        401, "webhook_unauthenticated", "secret",
    ),
    "infobip wrong query secret": (
        infobip_call("/webhooks/infobip/delivery", IB_DELIVERED, "wrong-secret-0123456789"),
        403, "webhook_forbidden", "secret",
    ),
    "infobip wrong basic password": (
        infobip_call("/webhooks/infobip/inbound", IB_INBOUND, "wrong-secret-01234", "basic"),
        403, "webhook_forbidden", "secret",
    ),
    "infobip malformed": (
        infobip_call("/webhooks/infobip/delivery", b'{"result": []}'),
        400, "invalid", "results",
    ),
    "infobip report without messageId": (
        infobip_call(
            "/webhooks/infobip/delivery", IB_DELIVERED.replace(b'"messageId"', b'"msgId"')
        ),
        400, "invalid", "results[0].messageId",
    ),
    "twilio unsigned": (
        twilio_call("/webhooks/twilio/status", TW_COMPLETED, signature=""),
        401, "webhook_unauthenticated", "X-Twilio-Signature",
    ),
    "twilio signed for the Host header's URL": (
        twilio_call("/webhooks/twilio/status", TW_COMPLETED, signed_base="http://testserver"),
        403, "webhook_forbidden", "X-Twilio-Signature",
    ),
    "twilio signed with another token": (
        twilio_call("/webhooks/twilio/status", TW_COMPLETED, token="another-auth-token"),
        403, "webhook_forbidden", "X-Twilio-Signature",
    ),
    "twilio tampered parameter": (
        twilio_call(
            "/webhooks/twilio/status",
            TW_COMPLETED.replace(b"CallStatus=completed", b"CallStatus=busy"),
            signed_form=TW_COMPLETED,
        ),
        403, "webhook_forbidden", "X-Twilio-Signature",
    ),
    "twilio tampered correlation key": (
        twilio_call(
            "/webhooks/twilio/status",
            TW_COMPLETED,
            query="key=c42%3Aj1%3As0&lang=es-ES",
            signed_query="key=c42%3Aj9001%3As0&lang=es-ES",
        ),
        403, "webhook_forbidden", "X-Twilio-Signature",
    ),
    "twilio query re-encoded": (
        twilio_call(
            "/webhooks/twilio/gather",
            TW_GATHER,
            query="key=c42:j9001:s0&lang=es-ES",
            signed_query="key=c42%3Aj9001%3As0&lang=es-ES",
        ),
        403, "webhook_forbidden", "X-Twilio-Signature",
    ),
    "twilio unknown account": (
        twilio_call(
            "/webhooks/twilio/status",
            TW_COMPLETED.replace(FIXTURE_ACCOUNT_SID.encode(), b"AC" + b"9" * 32),
        ),
        403, "webhook_forbidden", "AccountSid",
    ),
    "twilio without AccountSid": (
        twilio_call("/webhooks/twilio/status", b"CallSid=CA1&CallStatus=completed"),
        400, "invalid", "AccountSid",
    ),
    "twilio signed but without CallSid": (
        twilio_call(
            "/webhooks/twilio/status", TW_COMPLETED.replace(b"&CallSid=", b"&CallSidX=")
        ),
        400, "invalid", "CallSid",
    ),
    "twilio not a form": (
        twilio_call("/webhooks/twilio/status", b"\xff\xfe"), 400, "invalid", "body",
    ),
    "email inbound without secret": (
        email_call("/webhooks/email/inbound", EMAIL_GENERIC, secret=None),
        401, "webhook_unauthenticated", "X-Herald-Webhook-Secret",
    ),
    "email inbound wrong secret": (
        email_call("/webhooks/email/inbound", EMAIL_POSTMARK, "wrong-secret-01234", "basic"),
        403, "webhook_forbidden", "X-Herald-Webhook-Secret",
    ),
    "email inbound malformed": (
        email_call("/webhooks/email/inbound", b"[1, 2"), 400, "invalid", "body",
    ),
    "email inbound without sender": (
        email_call("/webhooks/email/inbound", EMAIL_GENERIC.replace(b'"from"', b'"sender"')),
        400, "invalid", "from",
    ),
    "email bounce wrong secret": (
        email_call("/webhooks/email/bounce", EMAIL_DSN, "wrong-secret-01234", "header"),
        403, "webhook_forbidden", "X-Herald-Webhook-Secret",
    ),
    "email bounce empty": (
        email_call("/webhooks/email/bounce", b"", content_type="message/rfc822"),
        400, "invalid", None,
    ),
    "email oversized": (
        email_call("/webhooks/email/inbound", b" " * (EMAIL_LIMIT + 1)),
        413, "payload_too_large", "body",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSALS)
def test_refused_requests_answer_problem_json_and_leave_no_trace(app: App, case: str) -> None:
    call, status, code, field = REFUSALS[case]
    response = call.send(app.client)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["code"]) == (status, code)
    if field is not None:
        assert problem["field"] == field
    assert problem["detail"]
    assert count_rows(app.herald) == (0, 0)


def test_refusals_on_every_backend_leave_no_trace(app_on_each_backend: App) -> None:
    app = app_on_each_backend
    for case, (call, status, _code, _field) in REFUSALS.items():
        assert call.send(app.client).status_code == status, case
    assert count_rows(app.herald) == (0, 0)


def test_unauthenticated_answers_invite_basic_auth(app: App) -> None:
    call, *_ = REFUSALS["infobip no secret"]
    assert call.send(app.client).headers["www-authenticate"].startswith("Basic ")


def test_a_body_streamed_without_length_is_cut_at_the_limit(app: App) -> None:
    chunks = (b"x" * 4096 for _ in range(LIMIT // 4096 + 2))
    response = app.client.post(
        "/webhooks/whatsapp",
        content=chunks,
        headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert response.status_code == 413
    assert count_rows(app.herald) == (0, 0)


ACCEPTED: dict[str, tuple[Call, str, str]] = {
    "whatsapp status": (whatsapp_call(WA_DELIVERED), "status", "whatsapp"),
    "whatsapp inbound": (whatsapp_call(WA_INBOUND), "inbound", "whatsapp"),
    "infobip report, secret in query": (
        infobip_call("/webhooks/infobip/delivery", IB_DELIVERED), "status", "infobip_sms",
    ),
    "infobip report, basic auth": (
        infobip_call("/webhooks/infobip/delivery", IB_DELIVERED, place="basic"),
        "status", "infobip_sms",
    ),
    "infobip inbound, header": (
        infobip_call("/webhooks/infobip/inbound", IB_INBOUND, place="header"),
        "inbound", "infobip_sms",
    ),
    "twilio status": (
        twilio_call("/webhooks/twilio/status", TW_COMPLETED), "status", "twilio_voice",
    ),
    "twilio status signed for the integration's own URL": (
        twilio_call(
            "/webhooks/twilio/status", TW_COMPLETED, signed_base="https://old-name.example.test"
        ),
        "status", "twilio_voice",
    ),
    "twilio gather": (
        twilio_call("/webhooks/twilio/gather", TW_GATHER), "inbound", "twilio_voice",
    ),
    "email generic, header": (
        email_call("/webhooks/email/inbound", EMAIL_GENERIC), "inbound", "email_smtp",
    ),
    "email postmark, basic auth": (
        email_call("/webhooks/email/inbound", EMAIL_POSTMARK, place="basic"),
        "inbound", "email_smtp",
    ),
    "email bounce": (
        email_call("/webhooks/email/bounce", EMAIL_DSN, content_type="message/rfc822"),
        "status", "email_smtp",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", ACCEPTED)
def test_a_valid_webhook_posted_three_times_is_stored_once(app: App, case: str) -> None:
    call, kind, provider = ACCEPTED[case]
    answers = [call.send(app.client) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200], answers[0].text
    if "gather" not in case:
        assert [a.json() for a in answers] == [
            {"new": 1, "duplicates": 0},
            {"new": 0, "duplicates": 1},
            {"new": 0, "duplicates": 1},
        ]
    [row] = event_rows(app.herald)
    assert (row.kind, row.provider) == (kind, provider)


def test_duplicates_are_stored_once_on_every_backend(app_on_each_backend: App) -> None:
    app = app_on_each_backend
    for case, (call, _kind, _provider) in ACCEPTED.items():
        for _ in range(3):
            assert call.send(app.client).status_code == 200, case
    rows = event_rows(app.herald)
    # Two cases repeat the same report (different auth); two the same Twilio status.
    assert len(rows) == len(ACCEPTED) - 2
    assert len({row.dedupe_key for row in rows}) == len(rows)


def test_stored_events_carry_their_correlation_keys(app: App) -> None:
    for call in (
        whatsapp_call(WA_DELIVERED),
        infobip_call("/webhooks/infobip/delivery", IB_DELIVERED),
        twilio_call("/webhooks/twilio/status", TW_COMPLETED),
    ):
        assert call.send(app.client).status_code == 200
    rows = {row.provider: row for row in event_rows(app.herald)}
    assert rows["whatsapp"].correlation_key == "campaign-42:contact-9001"
    assert rows["infobip_sms"].correlation_key == "c42:j9001:s0"
    assert rows["twilio_voice"].correlation_key == "c42:j9001:s0"
    assert rows["twilio_voice"].payload["status"] == "delivered"


def test_a_gather_is_answered_with_twiml_in_the_call_language(app: App) -> None:
    response = twilio_call("/webhooks/twilio/gather", TW_GATHER).send(app.client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')
    assert '<Say language="es-ES">' in response.text and "<Hangup />" in response.text
    [row] = event_rows(app.herald)
    assert (row.payload["payload"], row.correlation_key) == ("1", "c42:j9001:s0")


def test_the_event_hook_runs_only_when_something_new_was_stored(app: App) -> None:
    calls: list[str] = []
    app.web.state.on_events_recorded = lambda: calls.append("woken")
    for _ in range(3):
        whatsapp_call(WA_DELIVERED).send(app.client)
    whatsapp_call(WA_INBOUND, signature="sha256=" + "0" * 64).send(app.client)
    assert calls == ["woken"]


def test_a_failing_hook_does_not_fail_the_webhook(app: App) -> None:
    def broken() -> None:
        raise RuntimeError("router is down")

    app.web.state.on_events_recorded = broken
    assert whatsapp_call(WA_DELIVERED).send(app.client).status_code == 200
    assert len(event_rows(app.herald)) == 1


def test_secrets_are_decrypted_once_and_reread_when_the_integration_changes(app: App) -> None:
    intake = app.web.state.webhook_intake
    assert isinstance(intake, WebhookIntake)
    credentials = intake.credentials
    for _ in range(5):
        assert whatsapp_call(WA_DELIVERED).send(app.client).status_code == 200
    assert credentials.decryptions == 1
    with app.herald.sessions() as session:
        [whatsapp] = [
            i for i in app.herald.integrations.list(session) if i.kind is IntegrationKind.WHATSAPP
        ]
        app.herald.integrations.update(
            session, whatsapp.id, settings={"app_secret": "a-brand-new-app-secret"}
        )
    assert whatsapp_call(WA_INBOUND).send(app.client).status_code == 403
    fresh = whatsapp_call(WA_INBOUND, hub_signature(WA_INBOUND, "a-brand-new-app-secret"))
    assert fresh.send(app.client).status_code == 200
    assert credentials.decryptions == 2
    with app.herald.sessions() as session:
        app.herald.integrations.update(session, whatsapp.id, is_active=False)
    assert fresh.send(app.client).status_code == 403
    assert fresh.send(app.client).json()["detail"] == (
        "no active WhatsApp integration can accept this request"
    )


def test_any_of_several_integrations_may_sign(app: App) -> None:
    add_integration(
        app.herald, IntegrationKind.WHATSAPP, "second number", app_secret="second-app-secret"
    )
    signed = whatsapp_call(WA_INBOUND, hub_signature(WA_INBOUND, "second-app-secret"))
    assert signed.send(app.client).status_code == 200


HANDSHAKE = "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="


def test_the_whatsapp_handshake_echoes_the_challenge_for_our_token(app: App) -> None:
    response = app.client.get(HANDSHAKE + "herald-verify-token-0123")
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess",
        "hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=herald-verify-token-0123",
        "hub.mode=subscribe&hub.verify_token=herald-verify-token-0123",
        "",
    ],
)
def test_the_whatsapp_handshake_refuses_anything_else(app: App, query: str) -> None:
    response = app.client.get(f"/webhooks/whatsapp?{query}")
    assert response.status_code == 403
    assert response.json()["code"] == "webhook_forbidden"
    assert count_rows(app.herald) == (0, 0)


def test_without_integrations_every_webhook_is_forbidden(sqlite_url: str, tmp_path: Path) -> None:
    herald = make_herald(sqlite_url, tmp_path, public_base_url=PUBLIC_BASE_URL)
    for app in _app(herald):
        for call, *_ in ACCEPTED.values():
            assert call.send(app.client).status_code == 403
        assert app.client.get(HANDSHAKE + "herald-verify-token-0123").status_code == 403
        assert count_rows(herald) == (0, 0)


def test_the_routes_are_where_the_sandbox_posts() -> None:
    sandbox_paths = {
        sandbox_whatsapp.WEBHOOK_PATH,
        sandbox_smtp.BOUNCE_PATH,
        sandbox_smtp.INBOUND_PATH,
    }
    assert sandbox_paths <= set(PROVIDER_PATHS)
