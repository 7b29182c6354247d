"""The Infobip client against the sandbox over real HTTP, webhooks back to a receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from herald.channels.base import (
    DeliveryStatus,
    OutboundMessage,
    SendAccepted,
    SendRetryable,
    SendTerminal,
    SendUnknown,
    SmsContent,
)
from herald.channels.http import create_client_session
from herald.channels.infobip import (
    DELIVERY_PATH,
    INBOUND_PATH,
    InfobipSettings,
    InfobipSmsClient,
    create_client,
    message_id_for,
    parse_delivery_reports,
    parse_inbound,
    verify_webhook_secret,
)
from herald.channels.sandbox.scenario import ChannelScenario, Scenario, ScriptedRule
from herald.channels.sandbox.server import SandboxServer
from herald.errors import ValidationError
from tests.integration.recording_receiver import Received, RecordingReceiver, serve_fixed

CREDENTIALS = Scenario().credentials
QUICK = {"delivery_delay_seconds": 0.02, "reply_delay_seconds": 0.01}


@dataclass
class World:
    sandbox: SandboxServer
    receiver: RecordingReceiver
    client: InfobipSmsClient


@asynccontextmanager
async def _world(
    sms: dict[str, Any] | None = None, *, timeout_seconds: float = 5.0, **overrides: Any
) -> AsyncIterator[World]:
    async with RecordingReceiver() as receiver:
        channel = ChannelScenario(**(QUICK | (sms or {})))
        scenario = Scenario(seed=7, webhook_base_url=receiver.base_url, sms=channel)
        async with SandboxServer(scenario) as sandbox, create_client_session() as session:
            values: dict[str, Any] = {
                "base_url": sandbox.base_url,
                "api_key": CREDENTIALS.infobip_api_key,
                "sender": "HeraldCo",
                "webhook_secret": CREDENTIALS.infobip_webhook_secret,
                "notify_url_base": receiver.base_url,
            }
            settings = InfobipSettings(**(values | overrides))
            yield World(
                sandbox, receiver, create_client(settings, session, timeout_seconds=timeout_seconds)
            )


def _run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(body())  # type: ignore[arg-type]


def _sms(
    key: str, to: str = "+34600111222", text: str = "Hi Ana, your order ships today."
) -> OutboundMessage:
    return OutboundMessage(key, to, SmsContent(text))


def _verified(received: Received) -> bool:
    return verify_webhook_secret(
        CREDENTIALS.infobip_webhook_secret, headers=received.headers, query=received.query
    )


@pytest.mark.parametrize("flavour", ["v3", "v2"])
def test_an_accepted_sms_is_logged_delivered_and_answered(flavour: str) -> None:
    async def scenario() -> None:
        async with _world(
            {"reply_rate": 1.0, "reply_texts": ["STOP"]}, api_flavour=flavour
        ) as world:
            result = await world.client.send(_sms("c42:j9001:s0"))
            assert result == SendAccepted(message_id_for("c42:j9001:s0"), "PENDING_ACCEPTED", 1)
            [logged] = world.sandbox.log.sends()
            assert (logged.provider, logged.to, logged.correlation_key) == (
                "infobip_sms",
                "+34600111222",
                "c42:j9001:s0",
            )
            await world.sandbox.drain()
            [report] = world.receiver.at(DELIVERY_PATH)
            assert _verified(report) and "Authorization" not in report.headers
            [update] = parse_delivery_reports(report.body)
            assert update.status is DeliveryStatus.DELIVERED
            assert update.provider_message_id == message_id_for("c42:j9001:s0")
            assert update.correlation_key == "c42:j9001:s0"
            [reply] = world.receiver.at(INBOUND_PATH)
            assert _verified(reply) and "Authorization" in reply.headers
            [inbound] = parse_inbound(reply.body)
            assert (inbound.sender, inbound.text) == ("+34600111222", "STOP")
            assert inbound.recipient == CREDENTIALS.infobip_number

    _run(scenario)


def test_without_notify_url_reports_go_to_the_subscription_with_basic_auth() -> None:
    async def scenario() -> None:
        async with _world(notify_url_base=None) as world:
            assert isinstance(await world.client.send(_sms("k1")), SendAccepted)
            await world.sandbox.drain()
            [report] = world.receiver.at(DELIVERY_PATH)
            assert report.query == {}
            assert report.headers["Authorization"].startswith("Basic ")
            assert _verified(report)
            forged = Received(report.url, {}, report.body)
            assert not _verified(forged)

    _run(scenario)


@pytest.mark.parametrize(
    ("code", "expected", "fault"),
    [
        ("REJECTED_DESTINATION", "REJECTED_DESTINATION", False),
        ("REJECTED_NOT_ENOUGH_CREDITS", "REJECTED_NOT_ENOUGH_CREDITS", True),
        ("13", "REJECTED_SENDER", True),
    ],
)
def test_scripted_rejections_are_terminal(code: str, expected: str, fault: bool) -> None:
    async def scenario() -> None:
        rules = [ScriptedRule(match="+34600", reject=code)]
        async with _world({"rules": rules}) as world:
            result = await world.client.send(_sms("k1"))
            assert isinstance(result, SendTerminal)
            assert (result.failure.code, result.integration_fault) == (expected, fault)
            await world.sandbox.drain()
            assert world.sandbox.log.sends() == [] and world.receiver.received == []

    _run(scenario)


@pytest.mark.parametrize(
    ("fail", "status_name", "code"),
    [
        ("EC_UNKNOWN_SUBSCRIBER", "UNDELIVERABLE_NOT_DELIVERED", "EC_UNKNOWN_SUBSCRIBER"),
        ("27", "UNDELIVERABLE_NOT_DELIVERED", "EC_ABSENT_SUBSCRIBER"),
        ("EC_VALIDITY_EXPIRED", "EXPIRED_EXPIRED", "EC_VALIDITY_EXPIRED"),
        ("UNDELIVERABLE_REJECTED_OPERATOR", "UNDELIVERABLE_REJECTED_OPERATOR",
         "UNDELIVERABLE_REJECTED_OPERATOR"),
    ],
)  # fmt: skip
def test_scripted_failures_arrive_as_failed_reports(fail: str, status_name: str, code: str) -> None:
    async def scenario() -> None:
        rules = [ScriptedRule(match="+34600", fail=fail)]
        async with _world({"rules": rules, "reply_rate": 1.0}) as world:
            assert isinstance(await world.client.send(_sms("k1")), SendAccepted)
            await world.sandbox.drain()
            [update] = parse_delivery_reports(world.receiver.at(DELIVERY_PATH)[0].body)
            assert update.status is DeliveryStatus.FAILED
            assert update.failure is not None and update.failure.code == code
            assert update.detail["status"] == status_name
            assert world.receiver.at(INBOUND_PATH) == []  # nobody replies to what never arrived

    _run(scenario)


def test_a_second_send_of_the_same_step_is_refused_by_infobip_as_unknown() -> None:
    async def scenario() -> None:
        async with _world() as world:
            assert isinstance(await world.client.send(_sms("c1:j1:s0")), SendAccepted)
            again = await world.client.send(_sms("c1:j1:s0"))
            assert isinstance(again, SendUnknown) and "submitted before" in again.reason
            assert isinstance(await world.client.send(_sms("c1:j1:s1")), SendAccepted)
            assert world.sandbox.log.duplicate_keys() == {}
            assert len(world.sandbox.log.sends()) == 2

    _run(scenario)


def test_a_bad_api_key_is_an_integration_fault_and_fails_the_connection_check() -> None:
    async def scenario() -> None:
        async with _world(api_key="not-the-key") as world:
            result = await world.client.send(_sms("k1"))
            assert isinstance(result, SendTerminal) and result.integration_fault
            assert result.failure.code == "UNAUTHORIZED"
            assert result.failure.detail == "UNAUTHORIZED: Invalid login details"
            check = await world.client.check_connection()
            assert not check.connected
            assert check.reason == "UNAUTHORIZED (HTTP 401): UNAUTHORIZED: Invalid login details"
            assert world.sandbox.log.requests_rejected == 2
        async with _world() as world:
            check = await world.client.check_connection()
            assert check.connected and check.reason == "connected; balance 100.0 EUR"

    _run(scenario)


@pytest.mark.parametrize(
    ("flavour", "field"), [("v3", "messages[0].content.text"), ("v2", "messages[0].text")]
)
def test_invalid_requests_are_terminal_and_name_the_field(flavour: str, field: str) -> None:
    async def scenario() -> None:
        async with _world(api_flavour=flavour) as world:
            result = await world.client.send(_sms("k1", text="  "))
            assert isinstance(result, SendTerminal) and not result.integration_fault
            assert result.failure.code == "BAD_REQUEST"
            assert result.failure.detail is not None
            assert f"{field} must not be blank" in result.failure.detail
            bad_number = await world.client.send(_sms("k2", to="+12"))
            assert isinstance(bad_number, SendTerminal)
            assert bad_number.failure.code == "REJECTED_DESTINATION"

    _run(scenario)


def test_throttling_and_server_errors_are_retryable() -> None:
    async def scenario() -> None:
        rules = [
            ScriptedRule(match="+1555", reject="TOO_MANY_REQUESTS"),
            ScriptedRule(match="+1666", reject="GENERAL_ERROR"),
        ]
        async with _world({"rules": rules}) as world:
            throttled = await world.client.send(_sms("k1", to="+15550001111"))
            assert isinstance(throttled, SendRetryable)
            assert (throttled.failure.code, throttled.retry_after_seconds) == (
                "TOO_MANY_REQUESTS",
                1.0,
            )
            broken = await world.client.send(_sms("k2", to="+16660001111"))
            assert isinstance(broken, SendRetryable) and broken.failure.code == "GENERAL_ERROR"
            assert world.sandbox.log.sends() == []

    _run(scenario)


def test_random_rejections_use_the_scenario_codes() -> None:
    async def scenario() -> None:
        async with _world({"reject_rate": 1.0, "reject_codes": ["REJECTED_DND"]}) as world:
            result = await world.client.send(_sms("k1"))
            assert isinstance(result, SendTerminal) and result.failure.code == "REJECTED_DND"

    _run(scenario)


def test_part_counts_follow_the_alphabet_and_overlong_texts_are_refused() -> None:
    async def scenario() -> None:
        async with _world() as world:
            gsm = await world.client.send(_sms("k1", text="a" * 161))
            ucs = await world.client.send(_sms("k2", text="ñ😀" * 30))
            assert isinstance(gsm, SendAccepted) and gsm.segments == 2
            assert isinstance(ucs, SendAccepted) and ucs.segments == 2
            too_long = await world.client.send(_sms("k3", text="ж" * (67 * 25 + 1)))
            assert isinstance(too_long, SendTerminal)
            assert too_long.failure.code == "REJECTED_MESSAGE_TOO_LONG"

    _run(scenario)


def test_a_slow_answer_is_unknown_and_never_resent() -> None:
    async def scenario() -> None:
        async with _world({"latency_ms": 200}, timeout_seconds=0.05) as world:
            result = await world.client.send(_sms("k1"))
            assert isinstance(result, SendUnknown)
            assert "no answer" in result.reason

    _run(scenario)


def test_an_unreachable_provider_is_retryable_and_not_connected() -> None:
    async def scenario() -> None:
        async with _world() as world:
            port = world.sandbox.ports["http"]
        settings = world.client.settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"})
        async with create_client_session() as session:
            client = create_client(settings, session)
            result = await client.send(_sms("k1"))
            assert isinstance(result, SendRetryable) and result.failure.code == "CONNECTION_ERROR"
            check = await client.check_connection()
            assert not check.connected and check.reason.startswith("cannot reach Infobip")

    _run(scenario)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "kind"),
    [
        (200, b"<html><body>Welcome</body></html>", "text/html", SendUnknown),
        (200, b'{"messages": "none"}', "application/json", SendUnknown),
        (502, b"<html>Bad gateway</html>", "text/html", SendRetryable),
        (404, b"Not Found", "text/plain", SendTerminal),
    ],
)
def test_malformed_answers(status: int, body: bytes, content_type: str, kind: type) -> None:
    async def scenario() -> None:
        runner, base_url = await serve_fixed(status, body, content_type)
        try:
            async with create_client_session() as session:
                settings = InfobipSettings(
                    base_url=base_url,
                    api_key="k",
                    sender="HeraldCo",
                    webhook_secret="s" * 16,
                )
                client = create_client(settings, session)
                assert isinstance(await client.send(_sms("k1")), kind)
                check = await client.check_connection()
                assert check.connected is (status == 200)
        finally:
            await runner.cleanup()

    _run(scenario)


def test_scenario_codes_infobip_cannot_produce_are_refused_at_start() -> None:
    async def scenario() -> None:
        with pytest.raises(ValidationError, match="'131026' is not an Infobip rejection"):
            async with SandboxServer(Scenario(sms=ChannelScenario(reject_codes=["131026"]))):
                pass
        rules = [ScriptedRule(match="+1", fail="busy")]
        with pytest.raises(ValidationError, match="not an Infobip delivery failure") as caught:
            async with SandboxServer(Scenario(sms=ChannelScenario(rules=rules))):
                pass
        assert caught.value.field == "sms.fail_codes"

    _run(scenario)


def test_the_sandbox_answers_one_status_per_destination() -> None:
    async def scenario() -> None:
        rules = [ScriptedRule(match="+1555", reject="TOO_MANY_REQUESTS")]
        async with _world({"rules": rules}) as world, aiohttp.ClientSession() as session:
            url = world.sandbox.base_url + "/sms/3/messages"
            headers = {"Authorization": f"App {CREDENTIALS.infobip_api_key}"}

            async def post(destinations: list[dict[str, str]]) -> tuple[int, Any]:
                message = {
                    "sender": "HeraldCo",
                    "destinations": destinations,
                    "content": {"text": "x"},
                }
                async with session.post(
                    url, json={"messages": [message]}, headers=headers
                ) as answer:
                    return answer.status, await answer.json()

            status, body = await post([{"to": "34600111222", "messageId": "m1"}] * 2)
            assert status == 200
            assert [m["status"]["name"] for m in body["messages"]] == [
                "PENDING_ACCEPTED",
                "REJECTED_DUPLICATE_MESSAGE_ID",
            ]
            refused = [{"to": "34600111333", "messageId": "m2"}, {"to": "15550001111"}]
            status, body = await post(refused)
            assert (status, body["errorCode"]) == (429, "E429")
            status, body = await post([{"to": "34600111333", "messageId": "m2"}])
            assert body["messages"][0]["status"]["name"] == "PENDING_ACCEPTED"
            status, body = await post([])
            assert status == 400
            assert body["violations"] == [
                {"property": "messages[0].destinations", "violation": "must not be empty"}
            ]
            v2 = world.sandbox.base_url + "/sms/2/text/advanced"
            async with session.post(v2, data=b"{nope", headers=headers) as answer:
                legacy = (await answer.json())["requestError"]["serviceException"]
            assert legacy["validationErrors"] == {"body": ["is not valid JSON"]}
            assert [s.provider_message_id for s in world.sandbox.log.sends()] == ["m1", "m2"]

    _run(scenario)
