"""The emulated WhatsApp API: validation, error bodies, signed webhooks back to Herald."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from herald.channels.base import (
    DeliveryStatus,
    DeliveryUpdate,
    InboundMessage,
    OutboundMessage,
    SendAccepted,
    WhatsAppTemplateContent,
    WhatsAppTextContent,
)
from herald.channels.http import create_client_session
from herald.channels.sandbox.scenario import ChannelScenario, Scenario, ScriptedRule
from herald.channels.sandbox.server import SandboxServer
from herald.channels.whatsapp import (
    WhatsAppSettings,
    create_client,
    parse_webhook,
    verify_signature,
)

CREDENTIALS = Scenario().credentials
PHONE_ID = CREDENTIALS.whatsapp_phone_number_id
TO = "+34600111222"
AUTH = {"Authorization": f"Bearer {CREDENTIALS.whatsapp_access_token}"}


@dataclass
class Received:
    bodies: list[bytes] = field(default_factory=list)
    signatures: list[str | None] = field(default_factory=list)


@asynccontextmanager
async def _receiver() -> AsyncIterator[tuple[Received, str]]:
    """Herald's webhook endpoint stand-in: records raw bodies and signatures."""
    received = Received()

    async def handle(request: web.Request) -> web.Response:
        received.bodies.append(await request.read())
        received.signatures.append(request.headers.get("X-Hub-Signature-256"))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield received, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _scenario(base_url: str | None = None, **knobs: Any) -> Scenario:
    knobs.setdefault("delivery_delay_seconds", 1.0)
    return Scenario(
        seed=7, time_compression=1000, webhook_base_url=base_url, whatsapp=ChannelScenario(**knobs)
    )


def _settings(base_url: str) -> WhatsAppSettings:
    return WhatsAppSettings(
        graph_base_url=base_url,
        phone_number_id=PHONE_ID,
        waba_id=CREDENTIALS.whatsapp_business_account_id,
        access_token=CREDENTIALS.whatsapp_access_token,  # type: ignore[arg-type]
        app_secret=CREDENTIALS.whatsapp_app_secret,  # type: ignore[arg-type]
        webhook_verify_token="herald-verify",  # type: ignore[arg-type]
    )


def _events(received: Received) -> list[Any]:
    events: list[Any] = []
    for body, signature in zip(received.bodies, received.signatures, strict=True):
        assert verify_signature(body, signature, CREDENTIALS.whatsapp_app_secret)
        independent = hmac.new(
            CREDENTIALS.whatsapp_app_secret.encode(), body, hashlib.sha256
        ).hexdigest()
        assert signature == f"sha256={independent}"
        events.extend(parse_webhook(body))
    return events


REMINDER = WhatsAppTemplateContent("appointment_reminder", "en", ("Ana", "Tuesday 10:00"))


def test_accepted_send_is_followed_by_signed_statuses_and_a_reply() -> None:
    async def run() -> None:
        async with _receiver() as (received, herald_url):
            scenario = _scenario(
                herald_url, read_rate=1.0, reply_rate=1.0, reply_texts=["Sí, gracias"]
            )
            async with SandboxServer(scenario) as sandbox, create_client_session() as session:
                client = create_client(_settings(sandbox.base_url), session)
                sent = await client.send(OutboundMessage("camp-1:c-9:s0", TO, REMINDER))
                assert isinstance(sent, SendAccepted)
                await sandbox.drain()
                events = _events(received)
                updates = [e for e in events if isinstance(e, DeliveryUpdate)]
                assert {u.status for u in updates} == {
                    DeliveryStatus.SENT,
                    DeliveryStatus.DELIVERED,
                    DeliveryStatus.READ,
                }
                assert {u.provider_message_id for u in updates} == {sent.provider_message_id}
                assert {u.correlation_key for u in updates} == {"camp-1:c-9:s0"}
                [reply] = [e for e in events if isinstance(e, InboundMessage)]
                assert (reply.sender, reply.text, reply.recipient) == (TO, "Sí, gracias", PHONE_ID)
                # The reply opened the 24-hour window: free-form text now goes through.
                text = WhatsAppTextContent("¡Perfecto!", reply.received_at)
                assert isinstance(await client.send(OutboundMessage("k2", TO, text)), SendAccepted)
                assert sandbox.log.webhooks_delivered == len(received.bodies) >= 4

    asyncio.run(run())


@pytest.mark.parametrize(
    "knobs, code",
    [
        ({"rules": [ScriptedRule(match="+34600", fail="131026")]}, "131026"),
        ({"fail_rate": 1.0, "fail_codes": ["131049"]}, "131049"),
        ({"fail_rate": 1.0}, "131026"),
    ],
)
def test_failures_arrive_as_failed_statuses_with_errors(knobs: dict[str, Any], code: str) -> None:
    async def run() -> None:
        async with _receiver() as (received, herald_url):
            scenario = _scenario(herald_url, reply_rate=1.0, **knobs)
            async with SandboxServer(scenario) as sandbox, create_client_session() as session:
                client = create_client(_settings(sandbox.base_url), session)
                sent = await client.send(OutboundMessage("k-fail", TO, REMINDER))
                assert isinstance(sent, SendAccepted)
                await sandbox.drain()
                [event] = _events(received)
                assert isinstance(event, DeliveryUpdate)
                assert event.status is DeliveryStatus.FAILED
                assert event.failure is not None and event.failure.code == code
                assert event.correlation_key == "k-fail"

    asyncio.run(run())


def test_scripted_reply_and_unread_messages() -> None:
    async def run() -> None:
        async with _receiver() as (received, herald_url):
            rules = [ScriptedRule(match="+44", reply="STOP")]
            scenario = _scenario(herald_url, read_rate=0.0, rules=rules)
            async with SandboxServer(scenario) as sandbox, create_client_session() as session:
                client = create_client(_settings(sandbox.base_url), session)
                await client.send(OutboundMessage("a", "+447700900123", REMINDER))
                await client.send(OutboundMessage("b", TO, REMINDER))
                await sandbox.drain()
                events = _events(received)
                replies = [(e.sender, e.text) for e in events if isinstance(e, InboundMessage)]
                assert replies == [("+447700900123", "STOP")]
                statuses = {
                    (e.correlation_key, e.status) for e in events if isinstance(e, DeliveryUpdate)
                }
                assert ("b", DeliveryStatus.READ) not in statuses
                assert ("a", DeliveryStatus.READ) in statuses  # a reply implies a read
                assert ("b", DeliveryStatus.DELIVERED) in statuses

    asyncio.run(run())


def test_a_scripted_number_is_shielded_from_random_outcomes() -> None:
    async def run() -> None:
        async with _receiver() as (received, herald_url):
            rules = [ScriptedRule(match=TO, reply="Hola")]
            scenario = _scenario(herald_url, reject_rate=1.0, fail_rate=1.0, rules=rules)
            async with SandboxServer(scenario) as sandbox, create_client_session() as session:
                client = create_client(_settings(sandbox.base_url), session)
                assert isinstance(
                    await client.send(OutboundMessage("a", TO, REMINDER)), SendAccepted
                )
                other = await client.send(OutboundMessage("b", "+34600999999", REMINDER))
                assert not isinstance(other, SendAccepted)
                await sandbox.drain()
                events = _events(received)
                assert DeliveryStatus.FAILED not in {
                    e.status for e in events if isinstance(e, DeliveryUpdate)
                }
                assert [e.text for e in events if isinstance(e, InboundMessage)] == ["Hola"]

    asyncio.run(run())


def test_a_person_writing_first_posts_an_inbound_webhook() -> None:
    async def run() -> None:
        async with (
            _receiver() as (received, herald_url),
            SandboxServer(_scenario(herald_url)) as sandbox,
            aiohttp.ClientSession() as session,
        ):
            url = sandbox.base_url + "/_sandbox/whatsapp/inbound"
            async with session.post(url, json={"from": TO, "text": "Hi!"}) as response:
                answer = await response.json()
            async with session.post(url, json={"from": "nobody"}) as response:
                assert response.status == 400
            await sandbox.drain()
            [event] = _events(received)
            assert isinstance(event, InboundMessage)
            assert (event.provider_message_id, event.text) == (answer["id"], "Hi!")
            assert answer["webhook_url"] == herald_url + "/webhooks/whatsapp"

    asyncio.run(run())


async def _post(sandbox: SandboxServer, payload: Any, **kwargs: Any) -> tuple[int, Any]:
    """POST ``payload`` as JSON (None: a body that is not JSON)."""
    url = kwargs.pop("url", f"{sandbox.base_url}/v21.0/{PHONE_ID}/messages")
    headers = kwargs.pop("headers", AUTH)
    body = b"{not json" if payload is None else json.dumps(payload).encode()
    headers = {**headers, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, await response.json()


def _message(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "to": TO,
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en"}},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def _template(name: str, language: str, *components: dict[str, Any]) -> dict[str, Any]:
    return _message(
        template={"name": name, "language": {"code": language}, "components": list(components)}
    )


def _body(*values: str) -> dict[str, Any]:
    return {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}


ORDER_HEADER = {
    "type": "header",
    "parameters": [{"type": "image", "image": {"link": "https://x.test/a.png"}}],
}
ORDER_URL = {
    "type": "button",
    "sub_type": "url",
    "index": "1",
    "parameters": [{"type": "text", "text": "A-1"}],
}


@pytest.mark.parametrize(
    "payload, code",
    [
        (None, 100),
        (_message(messaging_product=None), 131008),
        (_message(messaging_product="sms"), 100),
        (_message(to=None), 131008),
        (_message(to="not-a-number"), 131009),
        (_message(type="carousel"), 100),
        (_message(type="image"), 100),
        (_message(type="text", text={}), 131008),
        (_message(biz_opaque_callback_data=42), 100),
        (_message(template={"name": "hello_world"}), 131008),
        (_template("no_such_template", "en"), 132001),
        (_template("hello_world", "es"), 132001),
        (_template("hello_world", "en", _body("extra")), 132000),
        (_template("appointment_reminder", "es", _body("Ana")), 132000),
        (_template("appointment_reminder", "es", _body("Ana", " ")), 131008),
        (_template("spring_sale", "en", _body("Ana")), 132015),
        (_template("legacy_offer", "en"), 132016),
        (_template("order_update", "en", _body("Ana", "A-1"), ORDER_URL), 131008),
        (
            _template(
                "order_update",
                "en",
                {"type": "header", "parameters": [{"type": "text", "text": "x"}]},
                _body("Ana", "A-1"),
                ORDER_URL,
            ),
            132012,
        ),
        (_template("order_update", "en", ORDER_HEADER, _body("Ana", "A-1")), 131008),
        (_template("shipping_update", "en", _body("Ana")), 132000),
        (
            _template(
                "appointment_reminder",
                "en",
                _body("Ana", "10:00"),
                {"type": "button", "sub_type": "quick_reply", "index": "5", "parameters": []},
            ),
            131009,
        ),
        (_template("hello_world", "en", {"type": "footer"}), 100),
        (_message(type="text", text={"body": "hola"}), 131047),
    ],
)
def test_invalid_requests_get_meta_error_bodies(payload: Any, code: int) -> None:
    async def run() -> None:
        async with SandboxServer() as sandbox:
            status, answer = await _post(sandbox, payload)
            assert status == 400
            error = answer["error"]
            assert error["code"] == code
            assert error["message"].startswith(f"(#{code}) ")
            assert error["type"] == "OAuthException"
            assert error["error_data"]["messaging_product"] == "whatsapp"
            assert error["error_data"]["details"]
            assert error["fbtrace_id"]
            assert sandbox.log.sends() == []

    asyncio.run(run())


@pytest.mark.parametrize(
    "payload",
    [
        _message(),
        _template("order_update", "es", ORDER_HEADER, _body("Ana", "A-1"), ORDER_URL),
        _template(
            "shipping_update",
            "en",
            {"type": "header", "parameters": [{"type": "text", "text": "#A-1"}]},
            _body("Ana"),
        ),
        _template(
            "campaign_offer",
            "pt_BR",
            _body("Ana"),
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "YES"}],
            },
        ),
    ],
)
def test_valid_templates_are_accepted(payload: dict[str, Any]) -> None:
    async def run() -> None:
        async with SandboxServer() as sandbox:
            status, answer = await _post(sandbox, payload)
            assert status == 200, answer
            assert answer["contacts"] == [{"input": TO, "wa_id": TO[1:]}]
            assert answer["messages"][0]["message_status"] == "accepted"
            assert answer["messages"][0]["id"].startswith("wamid.")

    asyncio.run(run())


def test_missing_or_wrong_token_gets_the_oauth_error() -> None:
    async def run() -> None:
        async with SandboxServer() as sandbox:
            for headers in (
                {},
                {"Authorization": "Bearer nope"},
                {"Authorization": "sandbox-whatsapp-token"},
            ):
                status, answer = await _post(sandbox, _message(), headers=headers)
                assert status == 401
                assert answer["error"]["code"] == 190
                assert answer["error"]["type"] == "OAuthException"
            assert sandbox.log.requests_rejected == 3

    asyncio.run(run())


def test_unknown_phone_number_id_is_a_graph_method_error() -> None:
    async def run() -> None:
        async with SandboxServer() as sandbox:
            status, answer = await _post(
                sandbox, _message(), url=f"{sandbox.base_url}/v21.0/123456/messages"
            )
            assert status == 400
            assert answer["error"]["type"] == "GraphMethodException"
            assert (answer["error"]["code"], answer["error"]["error_subcode"]) == (100, 33)
            assert "'123456'" in answer["error"]["message"]

    asyncio.run(run())


def test_phone_number_object_requires_the_token() -> None:
    async def run() -> None:
        async with SandboxServer() as sandbox, aiohttp.ClientSession() as session:
            url = f"{sandbox.base_url}/v21.0/{PHONE_ID}"
            async with session.get(url, headers=AUTH) as response:
                assert response.status == 200
                number = await response.json()
            async with session.get(url) as response:
                assert response.status == 401
        assert number["id"] == PHONE_ID
        assert number["display_phone_number"] == "+15550783881"

    asyncio.run(run())


def test_without_a_webhook_url_sends_are_still_accepted_and_logged() -> None:
    async def run() -> None:
        async with SandboxServer(_scenario(None, reply_rate=1.0)) as sandbox:
            status, _answer = await _post(sandbox, _message(biz_opaque_callback_data="k-1"))
            assert status == 200
            assert sandbox.context is not None and sandbox.context.webhooks.pending == 0
            assert [s.correlation_key for s in sandbox.log.sends()] == ["k-1"]

    asyncio.run(run())
