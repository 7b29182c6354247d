"""Real sends through the sandbox; its own signed webhooks land in Herald's inbox.

Herald runs under uvicorn on loopback with its public base URL set to its
own address; integrations are created with the sandbox's credentials, so
every status, reply, gather and bounce the sandbox produces must pass the
real signature check and be stored exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel

from herald.channels import email, infobip, twilio, whatsapp
from herald.channels.base import (
    EmailContent,
    KeypressCapture,
    OutboundMessage,
    SendAccepted,
    SmsContent,
    VoiceContent,
    WhatsAppTemplateContent,
)
from herald.channels.http import create_client_session
from herald.channels.sandbox.mailbox import InboundFormat, ReceivedEmail
from herald.channels.sandbox.scenario import ChannelScenario, Scenario, ScriptedRule
from herald.channels.sandbox.server import SandboxServer
from herald.domain.channels import Channel, IntegrationKind
from herald.services import suppression
from herald.services.container import Herald
from herald.store.inbox import ProviderEventRow
from herald.web.app import create_app
from tests.webhook_support import add_integration, event_rows, make_herald, serve

TO = "+34600111222"
UNLUCKY = "+34699000111"
REMINDER = WhatsAppTemplateContent("appointment_reminder", "en", ("Ana", "Tuesday 10:00"))


@dataclass
class World:
    herald: Herald
    url: str  # Herald's base URL, also its public base URL


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    herald: Herald | None = None

    def build(base_url: str) -> Any:
        nonlocal herald
        herald = make_herald(database_url, tmp_path, public_base_url=base_url)
        return create_app(herald)

    with serve(build) as url:
        assert herald is not None
        yield World(herald, url)
    herald.close()


def _settings(world: World, integration: int) -> BaseModel:
    with world.herald.sessions() as session:
        return world.herald.integrations.provider_settings(session, integration)  # type: ignore[arg-type]


def _exchange(
    world: World,
    scenario: Scenario,
    body: Callable[[SandboxServer, aiohttp.ClientSession], Awaitable[None]],
) -> SandboxServer:
    """Run ``body`` against a sandbox posting to Herald; return it once every webhook went out."""

    async def main() -> SandboxServer:
        async with SandboxServer(scenario) as sandbox, create_client_session() as session:
            await body(sandbox, session)
            await sandbox.drain()
            return sandbox

    sandbox = asyncio.run(main())
    assert sandbox.log.webhooks_failed == 0
    assert sandbox.log.webhooks_delivered > 0
    return sandbox


def _scenario(world: World, channel: str, **knobs: Any) -> Scenario:
    knobs = {"delivery_delay_seconds": 0.05, "reply_delay_seconds": 0.05} | knobs
    return Scenario(seed=5, webhook_base_url=world.url, **{channel: ChannelScenario(**knobs)})


def _statuses(rows: list[ProviderEventRow], message_id: str) -> set[str]:
    return {
        row.payload["status"]
        for row in rows
        if row.kind == "status" and row.provider_message_id == message_id
    }


def _assert_stored_once(rows: list[ProviderEventRow]) -> None:
    keys = [row.dedupe_key for row in rows]
    assert len(keys) == len(set(keys))


def test_whatsapp_statuses_and_replies_arrive_signed_and_stored(world: World) -> None:
    integration = add_integration(world.herald, IntegrationKind.WHATSAPP)
    scenario = _scenario(
        world,
        "whatsapp",
        read_rate=1.0,
        rules=[
            ScriptedRule(match=UNLUCKY, fail="131026"),
            ScriptedRule(match=TO, reply="Sí, gracias"),
        ],
    )
    sent: list[SendAccepted] = []

    async def body(sandbox: SandboxServer, session: aiohttp.ClientSession) -> None:
        settings = _settings(world, integration).model_copy(
            update={"graph_base_url": sandbox.base_url}
        )
        assert isinstance(settings, whatsapp.WhatsAppSettings)
        client = whatsapp.create_client(settings, session)
        for key, to in (("c1:j1:s0", TO), ("c1:j2:s0", UNLUCKY)):
            result = await client.send(OutboundMessage(key, to, REMINDER))
            assert isinstance(result, SendAccepted)
            sent.append(result)
        person = {"from": "+447700900123", "text": "Hello, who is this?"}
        async with session.post(f"{sandbox.base_url}/_sandbox/whatsapp/inbound", json=person) as r:
            assert r.status == 200

    _exchange(world, scenario, body)
    rows = event_rows(world.herald)
    _assert_stored_once(rows)
    delivered, failed = sent
    assert _statuses(rows, delivered.provider_message_id) == {"sent", "delivered", "read"}
    assert _statuses(rows, failed.provider_message_id) == {"failed"}
    [failure] = [r for r in rows if r.provider_message_id == failed.provider_message_id]
    assert failure.payload["failure"]["code"] == "131026"
    assert {r.correlation_key for r in rows if r.kind == "status"} == {"c1:j1:s0", "c1:j2:s0"}
    inbound = {(r.payload["sender"], r.payload["text"]) for r in rows if r.kind == "inbound"}
    assert inbound == {(TO, "Sí, gracias"), ("+447700900123", "Hello, who is this?")}
    assert {r.provider for r in rows} == {"whatsapp"}


def test_infobip_reports_and_inbound_sms_arrive_with_the_shared_secret(world: World) -> None:
    integration = add_integration(
        world.herald, IntegrationKind.INFOBIP_SMS, notify_url_base=world.url
    )
    rules = [
        ScriptedRule(match=UNLUCKY, fail="EC_UNKNOWN_SUBSCRIBER"),
        ScriptedRule(match=TO, reply="STOP"),
    ]
    sent: list[SendAccepted] = []

    async def body(sandbox: SandboxServer, session: aiohttp.ClientSession) -> None:
        settings = _settings(world, integration).model_copy(update={"base_url": sandbox.base_url})
        assert isinstance(settings, infobip.InfobipSettings)
        client = infobip.create_client(settings, session)
        for key, to in (("c2:j1:s0", TO), ("c2:j2:s0", UNLUCKY)):
            result = await client.send(OutboundMessage(key, to, SmsContent("Your order is ready")))
            assert isinstance(result, SendAccepted)
            sent.append(result)

    _exchange(world, _scenario(world, "sms", rules=rules), body)
    rows = event_rows(world.herald)
    _assert_stored_once(rows)
    delivered, failed = sent
    assert _statuses(rows, delivered.provider_message_id) == {"delivered"}
    assert _statuses(rows, failed.provider_message_id) == {"failed"}
    [failure] = [r for r in rows if r.provider_message_id == failed.provider_message_id]
    assert failure.payload["failure"]["code"] == "EC_UNKNOWN_SUBSCRIBER"
    assert {r.correlation_key for r in rows if r.kind == "status"} == {"c2:j1:s0", "c2:j2:s0"}
    [reply] = [r for r in rows if r.kind == "inbound"]
    assert (reply.payload["sender"], reply.payload["text"]) == (TO, "STOP")


def test_twilio_callbacks_and_a_keypress_are_verified_against_the_public_url(
    world: World,
) -> None:
    integration = add_integration(
        world.herald, IntegrationKind.TWILIO_VOICE, public_base_url=world.url
    )
    rules = [ScriptedRule(match=UNLUCKY, fail="busy"), ScriptedRule(match=TO, reply="1")]
    capture = KeypressCapture("Press 1 to confirm.", {"1": "confirm"})
    sent: list[SendAccepted] = []

    async def body(sandbox: SandboxServer, session: aiohttp.ClientSession) -> None:
        settings = _settings(world, integration).model_copy(
            update={"api_base_url": sandbox.base_url}
        )
        assert isinstance(settings, twilio.TwilioSettings)
        client = twilio.create_client(settings, session)
        for key, to in (("c3:j1:s0", TO), ("c3:j2:s0", UNLUCKY)):
            content = VoiceContent("Hello Ana, your order is ready.", "en-GB", capture)
            result = await client.send(OutboundMessage(key, to, content))
            assert isinstance(result, SendAccepted)
            sent.append(result)

    _exchange(world, _scenario(world, "voice", rules=rules), body)
    rows = event_rows(world.herald)
    _assert_stored_once(rows)
    answered, busy = sent
    # initiated, ringing and answered are all "sent": one row; then the outcome.
    assert _statuses(rows, answered.provider_message_id) == {"delivered"}  # final status only
    assert _statuses(rows, busy.provider_message_id) >= {"failed"}
    [failure] = [
        r
        for r in rows
        if r.provider_message_id == busy.provider_message_id and r.kind == "status"
        if r.payload["status"] == "failed"
    ]
    assert failure.payload["failure"]["code"] == "busy"
    [keypress] = [r for r in rows if r.kind == "inbound"]
    assert keypress.correlation_key == "c3:j1:s0"
    assert (keypress.payload["sender"], keypress.payload["payload"]) == (TO, "1")
    assert keypress.payload["in_reply_to"] == [answered.provider_message_id]


@pytest.mark.parametrize("reply_format", ["postmark", "json"])
def test_email_bounces_and_replies_arrive_with_the_shared_secret(
    world: World, reply_format: InboundFormat
) -> None:
    sent: list[SendAccepted] = []

    async def body(sandbox: SandboxServer, _session: aiohttp.ClientSession) -> None:
        assert sandbox.context is not None
        sandbox.context.mailbox.inbound_format = reply_format
        integration = add_integration(
            world.herald, IntegrationKind.EMAIL_SMTP, port=sandbox.ports["smtp"]
        )
        settings = _settings(world, integration)
        assert isinstance(settings, email.EmailSettings)
        client = email.create_client(settings)
        try:
            for key, to in (("c4:j1:s0", "ana@example.org"), ("c4:j2:s0", "gone@nowhere.test")):
                content = EmailContent("Your order A-1029", "Ready. When shall we deliver?")
                result = await client.send(OutboundMessage(key, to, content))
                assert isinstance(result, SendAccepted)
                sent.append(result)
        finally:
            await client.aclose()

    rules = [
        ScriptedRule(match="@nowhere.test", fail="5.1.1"),
        ScriptedRule(match="ana@example.org", reply="Friday works, thanks."),
    ]
    _exchange(world, _scenario(world, "email", rules=rules), body)
    rows = event_rows(world.herald)
    _assert_stored_once(rows)
    replied, bounced = sent
    [bounce] = [r for r in rows if r.kind == "status"]
    assert bounce.provider_message_id == bounced.provider_message_id
    assert bounce.correlation_key == "c4:j2:s0"
    assert (bounce.payload["status"], bounce.payload["failure"]["code"]) == ("failed", "5.1.1")
    [reply] = [r for r in rows if r.kind == "inbound"]
    assert reply.payload["sender"] == "ana@example.org"
    assert reply.payload["text"].startswith("Friday works, thanks.")
    assert replied.provider_message_id in reply.payload["in_reply_to"]


def test_the_list_unsubscribe_link_of_a_sent_email_works_with_one_click(world: World) -> None:
    received: list[ReceivedEmail] = []

    async def body(sandbox: SandboxServer, session: aiohttp.ClientSession) -> None:
        assert sandbox.context is not None
        integration = add_integration(
            world.herald,
            IntegrationKind.EMAIL_SMTP,
            port=sandbox.ports["smtp"],
            public_base_url=world.url,
        )
        settings = _settings(world, integration)
        assert isinstance(settings, email.EmailSettings)
        client = email.create_client(settings)
        content = EmailContent("Spring sale", "20% off this week.", list_id="77")
        try:
            result = await client.send(OutboundMessage("c5:j1:s0", "ana@example.org", content))
            assert isinstance(result, SendAccepted)
        finally:
            await client.aclose()
        received.extend(sandbox.context.mailbox.find("ana@example.org"))
        [mail] = received
        message = mail.parsed()
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = next(
            part.strip(" <>")
            for part in str(message["List-Unsubscribe"]).split(",")
            if part.strip(" <>").startswith(world.url)
        )
        async with session.get(link) as page:
            assert page.status == 200
            assert not _is_suppressed(world.herald, "ana@example.org")
        async with session.post(link, data={"List-Unsubscribe": "One-Click"}) as done:
            assert done.status == 200

    asyncio.run(_with_sandbox(_scenario(world, "email"), body))
    assert _is_suppressed(world.herald, "ana@example.org")


async def _with_sandbox(
    scenario: Scenario,
    body: Callable[[SandboxServer, aiohttp.ClientSession], Awaitable[None]],
) -> None:
    async with SandboxServer(scenario) as sandbox, create_client_session() as session:
        await body(sandbox, session)


def _is_suppressed(herald: Herald, address: str) -> bool:
    with herald.sessions() as session:
        return suppression.is_suppressed(session, address, Channel.EMAIL)
