"""The WhatsApp client against the sandbox and misbehaving servers, over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from herald.channels.base import (
    ChannelClient,
    OutboundMessage,
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
    WhatsAppButtonParameter,
    WhatsAppTemplateContent,
    WhatsAppTextContent,
)
from herald.channels.http import create_client_session
from herald.channels.sandbox.scenario import ChannelScenario, Scenario, ScriptedRule
from herald.channels.sandbox.server import SandboxServer
from herald.channels.whatsapp import WhatsAppSettings, create_client
from herald.testing import FakeClock

TO = "+34600111222"
REMINDER = WhatsAppTemplateContent("appointment_reminder", "es", ("Ana", "martes 10:00"))


def _settings(base_url: str, **overrides: Any) -> WhatsAppSettings:
    credentials = Scenario().credentials
    data: dict[str, Any] = {
        "graph_base_url": base_url,
        "phone_number_id": credentials.whatsapp_phone_number_id,
        "waba_id": credentials.whatsapp_business_account_id,
        "access_token": credentials.whatsapp_access_token,
        "app_secret": credentials.whatsapp_app_secret,
        "webhook_verify_token": "herald-verify",
    }
    data.update(overrides)
    return WhatsAppSettings.model_validate(data)


Body = Callable[[ChannelClient, SandboxServer], Awaitable[None]]


def _run(body: Body, scenario: Scenario | None = None, **settings: Any) -> None:
    async def run() -> None:
        async with SandboxServer(scenario) as sandbox, create_client_session() as session:
            await body(create_client(_settings(sandbox.base_url, **settings), session), sandbox)

    asyncio.run(run())


def _whatsapp(**knobs: Any) -> Scenario:
    return Scenario(whatsapp=ChannelScenario(**knobs))


def test_accepted_template_is_logged_with_its_correlation_key() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        result = await client.send(OutboundMessage("camp-1:contact-7:step-0", TO, REMINDER))
        assert isinstance(result, SendAccepted)
        assert result.provider_message_id.startswith("wamid.")
        assert result.provider_status == "accepted"
        [logged] = sandbox.log.sends()
        assert (logged.provider, logged.to) == ("whatsapp", TO)
        assert logged.correlation_key == "camp-1:contact-7:step-0"
        assert logged.provider_message_id == result.provider_message_id
        async with (
            aiohttp.ClientSession() as session,
            session.get(sandbox.base_url + "/_sandbox/log") as response,
        ):
            log = await response.json()
        assert log["sends"][0]["correlation_key"] == "camp-1:contact-7:step-0"

    _run(body)


async def _terminal(client: ChannelClient, content: Any, to: str = TO) -> SendTerminal:
    result = await client.send(OutboundMessage("k", to, content))
    assert isinstance(result, SendTerminal), result
    assert not result.integration_fault
    return result


def test_template_problems_are_terminal_with_the_provider_code() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        wrong_count = WhatsAppTemplateContent("appointment_reminder", "es", ("Ana",))
        assert (await _terminal(client, wrong_count)).failure.code == "132000"
        unknown = WhatsAppTemplateContent("appointment_reminder", "fr", ("Ana", "10:00"))
        result = await _terminal(client, unknown)
        assert result.failure.code == "132001"
        assert result.failure.detail == "template name (appointment_reminder) does not exist in fr"
        assert result.failure.http_status == 400
        bad_button = WhatsAppTemplateContent(
            "appointment_reminder",
            "en",
            ("Ana", "10:00"),
            buttons=(WhatsAppButtonParameter(0, "url", "x"),),
        )
        assert (await _terminal(client, bad_button)).failure.code == "132012"
        assert (await _terminal(client, REMINDER, to="+12")).failure.code == "131009"
        assert sandbox.log.sends() == []
        assert sandbox.log.requests_rejected == 4

    _run(body)


def test_free_form_outside_the_window_is_refused_without_a_call() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        stale = datetime.now(UTC) - timedelta(days=2)
        for last_inbound_at in (None, stale):
            result = await _terminal(client, WhatsAppTextContent("Hola", last_inbound_at))
            assert result.failure.code == "131047"
            assert result.failure.http_status is None
            assert "refused before sending" in (result.failure.detail or "")
        assert sandbox.log.requests_rejected == 0

    _run(body)


def test_the_sandbox_enforces_the_window_the_client_believed_open() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        just_now = WhatsAppTextContent("Hola", datetime.now(UTC))
        result = await _terminal(client, just_now)
        assert result.failure.code == "131047"
        assert result.failure.http_status == 400
        async with aiohttp.ClientSession() as session:
            url = sandbox.base_url + "/_sandbox/whatsapp/inbound"
            async with session.post(url, json={"from": TO, "text": "Hola?"}) as response:
                assert response.status == 200
        assert isinstance(await client.send(OutboundMessage("k2", TO, just_now)), SendAccepted)

    _run(body)


def test_the_client_clock_decides_the_window() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        # Inbound 23 h before the fake "now": open for the client; the sandbox then decides.
        content = WhatsAppTextContent("Hola", clock.now() - timedelta(hours=23))
        result = await client.send(OutboundMessage("k", TO, content))
        assert isinstance(result, SendTerminal) and result.failure.http_status == 400
        clock.advance(timedelta(hours=2))
        result = await client.send(OutboundMessage("k", TO, content))
        assert isinstance(result, SendTerminal) and result.failure.http_status is None

    clock = FakeClock(datetime.now(UTC))

    async def run() -> None:
        async with SandboxServer() as sandbox, create_client_session() as session:
            client = create_client(_settings(sandbox.base_url), session, clock=clock)
            await body(client, sandbox)

    asyncio.run(run())


def test_scripted_rate_limits_are_retryable() -> None:
    scenario = _whatsapp(
        rules=[
            ScriptedRule(match="+1555001", reject="130429"),
            ScriptedRule(match="+1555002", reject="131056"),
            ScriptedRule(match="+1555003", reject="131000"),
        ]
    )

    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        throughput = await client.send(OutboundMessage("a", "+15550010000", REMINDER))
        assert isinstance(throughput, SendRetryable)
        assert (throughput.failure.code, throughput.failure.http_status) == ("130429", 429)
        pair = await client.send(OutboundMessage("b", "+15550020000", REMINDER))
        assert isinstance(pair, SendRetryable)
        assert pair.failure.code == "131056" and pair.retry_after_seconds == 6.0
        unknown = await client.send(OutboundMessage("c", "+15550030000", REMINDER))
        assert isinstance(unknown, SendRetryable) and unknown.failure.http_status == 500
        assert isinstance(await client.send(OutboundMessage("d", TO, REMINDER)), SendAccepted)
        assert [send.correlation_key for send in sandbox.log.sends()] == ["d"]

    _run(body, scenario)


def test_random_rejections_use_the_scenario_codes() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        results = [await client.send(OutboundMessage(str(n), TO, REMINDER)) for n in range(4)]
        assert all(isinstance(r, SendTerminal) for r in results)
        assert {r.failure.code for r in results if isinstance(r, SendTerminal)} == {"131026"}

    _run(body, _whatsapp(reject_rate=1.0, reject_codes=["131026"]))


def test_bad_token_is_an_integration_fault() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        result = await client.send(OutboundMessage("k", TO, REMINDER))
        assert isinstance(result, SendTerminal) and result.integration_fault
        assert (result.failure.code, result.failure.http_status) == ("190", 401)
        check = await client.check_connection()
        assert not check.connected
        assert "190" in check.reason and "access token" in check.reason

    _run(body, access_token="EAAG-revoked-token")


def test_unknown_phone_number_id_is_an_integration_fault() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        result = await client.send(OutboundMessage("k", TO, REMINDER))
        assert isinstance(result, SendTerminal) and result.integration_fault
        assert result.failure.code == "100"
        assert not (await client.check_connection()).connected

    _run(body, phone_number_id="999000999")


def test_connection_check_names_the_number() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        check = await client.check_connection()
        assert check.connected
        assert check.reason == "connected as Herald Sandbox (+15550783881), quality GREEN"

    _run(body)


def test_latency_beyond_the_timeout_leaves_the_outcome_unknown() -> None:
    async def body(client: ChannelClient, sandbox: SandboxServer) -> None:
        result = await client.send(OutboundMessage("k", TO, REMINDER))
        assert isinstance(result, SendUnknown)
        assert "no answer" in result.reason

    _run(body, _whatsapp(latency_ms=600), request_timeout_seconds=0.2)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        assert isinstance(port, int)
        return port


def test_unreachable_api_is_retryable_and_not_connected() -> None:
    async def run() -> None:
        async with create_client_session() as session:
            client = create_client(_settings(f"http://127.0.0.1:{_free_port()}"), session)
            result = await client.send(OutboundMessage("k", TO, REMINDER))
            assert isinstance(result, SendRetryable) and result.failure.code == "not_sent"
            check = await client.check_connection()
            assert not check.connected and "cannot reach" in check.reason

    asyncio.run(run())


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _against(handler: Handler, content: Any = REMINDER) -> SendResult:
    """Send one message to a one-route server answering with ``handler``."""

    async def run() -> SendResult:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with create_client_session() as session:
                client = create_client(_settings(f"http://127.0.0.1:{port}"), session)
                return await client.send(OutboundMessage("k", TO, content))
        finally:
            await runner.cleanup()

    return asyncio.run(run())


def _answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> Handler:
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, headers=headers)

    return handler


def test_429_with_retry_after_is_honoured() -> None:
    error = b'{"error": {"message": "(#130429) Rate limit hit", "code": 130429}}'
    result = _against(_answer(429, error, {"Retry-After": "11"}))
    assert isinstance(result, SendRetryable) and result.retry_after_seconds == 11.0
    result = _against(_answer(429, b"slow down", {"Retry-After": "2"}))
    assert isinstance(result, SendRetryable)
    assert (result.failure.code, result.retry_after_seconds) == ("http_429", 2.0)


def test_malformed_answers() -> None:
    garbage = _against(_answer(200, b"<html><body>OK</body></html>"))
    assert isinstance(garbage, SendUnknown)
    missing_id = _against(_answer(200, b'{"messaging_product": "whatsapp", "messages": []}'))
    assert isinstance(missing_id, SendUnknown)
    gateway = _against(_answer(502, b"<html>Bad Gateway</html>"))
    assert isinstance(gateway, SendRetryable) and gateway.failure.code == "http_502"
    bad_request = _against(_answer(400, b"\x00\xff not json"))
    assert isinstance(bad_request, SendTerminal) and not bad_request.integration_fault


def test_connection_dropped_mid_answer_is_unknown() -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    assert isinstance(_against(drop), SendUnknown)


def test_the_request_carries_token_json_and_callback_data() -> None:
    seen: dict[str, Any] = {}

    async def capture(request: web.Request) -> web.Response:
        seen["path"] = request.path
        seen["auth"] = request.headers.get("Authorization")
        seen["body"] = await request.json()
        return web.json_response({"messages": [{"id": "wamid.X"}]})

    result = _against(capture)
    assert result == SendAccepted("wamid.X", None)
    credentials = Scenario().credentials
    assert seen["path"] == f"/v21.0/{credentials.whatsapp_phone_number_id}/messages"
    assert seen["auth"] == f"Bearer {credentials.whatsapp_access_token}"
    assert seen["body"]["biz_opaque_callback_data"] == "k"
    assert seen["body"]["template"]["name"] == "appointment_reminder"
