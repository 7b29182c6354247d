"""Bounces and replies from the sandbox reach a loopback Herald stand-in, verified and parsed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from herald.channels.base import (
    ChannelEvent,
    DeliveryStatus,
    DeliveryUpdate,
    EmailContent,
    InboundMessage,
    OutboundMessage,
    SendAccepted,
)
from herald.channels.email import (
    EmailSettings,
    create_client,
    parse_dsn,
    parse_inbound,
    verify_webhook_secret,
)
from herald.channels.sandbox.mailbox import InboundFormat
from herald.channels.sandbox.scenario import ChannelScenario, Scenario, ScriptedRule
from herald.channels.sandbox.server import SandboxServer
from tests.email_support import make_settings

SANDBOX_SECRET = "sandbox-inbound-email-secret"


@dataclass
class _Herald:
    """What Herald's webhook routes will do: verify the secret, then parse."""

    settings: EmailSettings
    events: list[ChannelEvent] = field(default_factory=list)
    refused: int = 0
    content_types: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        secret = self.settings.inbound_webhook_secret
        assert secret is not None
        if not verify_webhook_secret(dict(request.headers), secret.get_secret_value()):
            self.refused += 1
            return web.Response(status=401)
        body = await request.read()
        self.content_types.append(request.content_type)
        now = datetime.now(UTC)
        if request.path.endswith("/bounce"):
            self.events += parse_dsn(body, self.settings, received_at=now)
        else:
            self.events += parse_inbound(body, self.settings, received_at=now)
        return web.Response(status=200)


async def _start(herald: _Herald) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/webhooks/email/bounce", herald.handle)
    app.router.add_post("/webhooks/email/inbound", herald.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def _exchange(
    rules: list[ScriptedRule],
    sends: list[str],
    *,
    inbound_format: InboundFormat = "postmark",
    secret: str = SANDBOX_SECRET,
    knobs: dict[str, Any] | None = None,
) -> tuple[_Herald, list[SendAccepted]]:
    """Send to each address through the sandbox and collect the webhooks that come back."""

    async def main() -> tuple[_Herald, list[SendAccepted]]:
        herald = _Herald(make_settings(inbound_webhook_secret=secret))
        runner, base_url = await _start(herald)
        email = ChannelScenario(
            rules=rules, delivery_delay_seconds=0, reply_delay_seconds=0, **(knobs or {})
        )
        scenario = Scenario(webhook_base_url=base_url, email=email, seed=1)
        try:
            async with SandboxServer(scenario) as sandbox:
                assert sandbox.context is not None
                sandbox.context.mailbox.inbound_format = inbound_format
                client = create_client(
                    herald.settings.model_copy(update={"port": sandbox.ports["smtp"]})
                )
                accepted = []
                for index, to in enumerate(sends):
                    content = EmailContent(subject="Your order A-1029", text="Ready. When?")
                    result = await client.send(OutboundMessage(f"c{index}:j1:s0", to, content))
                    assert isinstance(result, SendAccepted)
                    accepted.append(result)
                await client.aclose()
                await sandbox.drain()
        finally:
            await runner.cleanup()
        return herald, accepted

    return asyncio.run(main())


def test_hard_bounce_arrives_as_a_dsn_linked_to_our_message() -> None:
    herald, (sent,) = _exchange(
        [ScriptedRule(match="@gone.example.org", fail="5.1.1")], ["ana@gone.example.org"]
    )
    assert herald.content_types == ["message/rfc822"]
    (update,) = herald.events
    assert isinstance(update, DeliveryUpdate)
    assert update.status is DeliveryStatus.FAILED
    assert update.provider_message_id == sent.provider_message_id
    assert update.correlation_key == "c0:j1:s0"
    assert update.failure is not None and update.failure.code == "5.1.1"
    assert update.detail["bounce"] == "hard"
    assert update.detail["recipient"] == "ana@gone.example.org"


def test_reply_arrives_in_postmark_format_threaded_to_our_message() -> None:
    herald, (sent,) = _exchange(
        [ScriptedRule(match="@talks.example.org", reply="Yes, Friday please.")],
        ["Ana@talks.example.org"],
    )
    (reply,) = herald.events
    assert isinstance(reply, InboundMessage)
    assert reply.sender == "ana@talks.example.org"
    assert reply.text == "Yes, Friday please."
    assert reply.full_text is not None and "> Ready. When?" in reply.full_text
    assert sent.provider_message_id in reply.in_reply_to
    assert reply.subject == "Re: Your order A-1029"
    assert reply.recipient.startswith("reply+")


def test_reply_in_the_generic_format() -> None:
    herald, (sent,) = _exchange(
        [ScriptedRule(match="@talks.example.org", reply="Call me, please.")],
        ["bo@talks.example.org"],
        inbound_format="json",
    )
    (reply,) = herald.events
    assert isinstance(reply, InboundMessage)
    assert reply.text == "Call me, please."
    assert reply.in_reply_to[0] == sent.provider_message_id


def test_webhooks_with_the_wrong_secret_leave_no_trace() -> None:
    herald, _ = _exchange(
        [
            ScriptedRule(match="@gone.example.org", fail="5.1.1"),
            ScriptedRule(match="@talks.example.org", reply="Hi"),
        ],
        ["a@gone.example.org", "b@talks.example.org"],
        secret="a-different-secret-entirely",
    )
    assert herald.events == []
    assert herald.refused == 2


def test_random_failures_and_replies_follow_the_rates() -> None:
    herald, sent = _exchange(
        [], ["a@example.org"], knobs={"fail_rate": 1.0, "fail_codes": ["5.2.2"]}
    )
    (update,) = herald.events
    assert isinstance(update, DeliveryUpdate) and update.failure is not None
    assert update.failure.code == "5.2.2" and update.detail["bounce"] == "hard"
    herald, sent = _exchange(
        [], ["b@example.org"], knobs={"reply_rate": 1.0, "reply_texts": ["Sounds good"]}
    )
    (reply,) = herald.events
    assert isinstance(reply, InboundMessage) and reply.text == "Sounds good"
    assert reply.in_reply_to[0] == sent[0].provider_message_id
