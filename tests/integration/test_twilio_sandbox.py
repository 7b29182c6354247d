"""The Twilio Voice client against the sandbox over real HTTP, signed callbacks back."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from twilio.request_validator import RequestValidator

from herald.channels.base import (
    DeliveryStatus,
    KeypressCapture,
    OutboundMessage,
    SendAccepted,
    SendRetryable,
    SendTerminal,
    SendUnknown,
    VoiceContent,
)
from herald.channels.http import HttpAnswer, create_client_session
from herald.channels.sandbox.scenario import ChannelScenario, Scenario, ScriptedRule
from herald.channels.sandbox.server import SandboxServer
from herald.channels.twilio import (
    GATHER_PATH,
    SIGNATURE_HEADER,
    STATUS_PATH,
    TwilioSettings,
    TwilioVoiceClient,
    classify_send_answer,
    create_client,
    parse_gather,
    parse_status_callback,
    verify_signature,
)
from herald.errors import ValidationError
from tests.integration.recording_receiver import Received, RecordingReceiver, serve_fixed

CREDENTIALS = Scenario().credentials
TOKEN = CREDENTIALS.twilio_auth_token
ARRIVED = datetime(2024, 6, 3, 16, 40, tzinfo=UTC)
KEY = "c42:j9001:s1"


@dataclass
class World:
    sandbox: SandboxServer
    receiver: RecordingReceiver
    client: TwilioVoiceClient


@asynccontextmanager
async def _world(
    voice: dict[str, Any] | None = None, *, timeout_seconds: float = 5.0, **overrides: Any
) -> AsyncIterator[World]:
    async with RecordingReceiver() as receiver:
        channel = ChannelScenario(**({"delivery_delay_seconds": 0.05} | (voice or {})))
        scenario = Scenario(seed=3, webhook_base_url=receiver.base_url, voice=channel)
        async with SandboxServer(scenario) as sandbox, create_client_session() as session:
            values: dict[str, Any] = {
                "api_base_url": sandbox.base_url,
                "account_sid": CREDENTIALS.twilio_account_sid,
                "auth_token": TOKEN,
                "caller_id": CREDENTIALS.twilio_number,
                "public_base_url": receiver.base_url,
            }
            settings = TwilioSettings(**(values | overrides))
            yield World(
                sandbox, receiver, create_client(settings, session, timeout_seconds=timeout_seconds)
            )


def _run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(body())  # type: ignore[arg-type]


def _call(key: str = KEY, to: str = "+34600111222", *, capture: bool = False) -> OutboundMessage:
    gather = KeypressCapture("Press 1 to confirm or 2 to cancel.") if capture else None
    return OutboundMessage(
        key, to, VoiceContent("Hello Ana, your order ships today.", "en-GB", gather)
    )


def _signed(received: Received) -> bool:
    return verify_signature(
        received.url, received.form(), received.headers.get(SIGNATURE_HEADER), TOKEN
    )


def _statuses(world: World, **policy: bool) -> list[tuple[str, DeliveryStatus, str | None]]:
    callbacks = sorted(world.receiver.at(STATUS_PATH), key=lambda r: int(r.field("SequenceNumber")))
    updates = []
    for callback in callbacks:
        assert _signed(callback)
        [update] = parse_status_callback(
            callback.form(), query=callback.query, received_at=ARRIVED, **policy
        )
        assert update.correlation_key == KEY
        code = update.failure.code if update.failure else None
        updates.append((callback.field("CallStatus"), update.status, code))
    return updates


def test_a_call_plays_out_with_signed_callbacks_and_a_keypress() -> None:
    async def scenario() -> None:
        rules = [ScriptedRule(match="+34600", reply="2")]
        async with _world({"rules": rules}, machine_detection="Enable") as world:
            result = await world.client.send(_call(capture=True))
            assert isinstance(result, SendAccepted) and result.provider_status == "queued"
            assert (
                result.provider_message_id.startswith("CA")
                and len(result.provider_message_id) == 34
            )
            [logged] = world.sandbox.log.sends()
            assert (logged.provider, logged.to, logged.correlation_key) == (
                "twilio_voice",
                "+34600111222",
                KEY,
            )
            await world.sandbox.drain()
            # Herald asks for the final status only.
            assert _statuses(world) == [("completed", DeliveryStatus.DELIVERED, None)]
            completed = max(
                world.receiver.at(STATUS_PATH), key=lambda r: int(r.field("SequenceNumber"))
            )
            assert completed.field("AnsweredBy") == "human"
            assert int(completed.field("CallDuration")) >= 1
            validator = RequestValidator(TOKEN)
            signature = completed.headers[SIGNATURE_HEADER]
            assert validator.validate(completed.url, dict(completed.form()), signature)
            [gather] = world.receiver.at(GATHER_PATH)
            assert _signed(gather)
            [reply] = parse_gather(gather.form(), query=gather.query, received_at=ARRIVED)
            assert (reply.payload, reply.sender, reply.correlation_key) == (
                "2",
                "+34600111222",
                KEY,
            )
            assert reply.in_reply_to == (result.provider_message_id,)

    _run(scenario)


@pytest.mark.parametrize(
    ("fail", "policy", "final", "status", "code"),
    [
        ("busy", True, "busy", DeliveryStatus.FAILED, "busy"),
        ("no-answer", True, "no-answer", DeliveryStatus.FAILED, "no-answer"),
        ("canceled", True, "canceled", DeliveryStatus.FAILED, "canceled"),
        ("failed", True, "failed", DeliveryStatus.FAILED, "failed"),
        ("13224", True, "failed", DeliveryStatus.FAILED, "13224"),
        ("machine", True, "completed", DeliveryStatus.DELIVERED, None),
        ("machine", False, "completed", DeliveryStatus.FAILED, "machine"),
        ("fax", True, "completed", DeliveryStatus.FAILED, "fax"),
    ],
)
def test_scripted_outcomes_arrive_as_final_statuses(
    fail: str, policy: bool, final: str, status: DeliveryStatus, code: str | None
) -> None:
    async def scenario() -> None:
        rules = [ScriptedRule(match="+34600", fail=fail)]
        async with _world({"rules": rules, "reply_rate": 1.0}, machine_detection="Enable") as world:
            assert isinstance(await world.client.send(_call(capture=True)), SendAccepted)
            await world.sandbox.drain()
            updates = _statuses(world, machine_counts_as_delivered=policy)
            assert updates[-1] == (final, status, code)
            assert world.receiver.at(GATHER_PATH) == []  # no person, no keypress

    _run(scenario)


@pytest.mark.parametrize(
    ("to", "rule", "code", "fault", "retry_after"),
    [
        ("34600111222", None, "21211", False, None),
        ("+34600111222", "21214", "21214", False, None),
        ("+34600111222", "21215", "21215", True, None),
        ("+34600111222", "20429", "20429", False, 1.0),
        ("+34600111222", "20500", "20500", False, None),
    ],
)
def test_refused_calls_are_classified(
    to: str, rule: str | None, code: str, fault: bool, retry_after: float | None
) -> None:
    async def scenario() -> None:
        rules = [ScriptedRule(match="+34600", reject=rule)] if rule else []
        async with _world({"rules": rules}) as world:
            result = await world.client.send(_call(to=to))
            assert isinstance(result, SendRetryable | SendTerminal)
            assert result.failure.code == code
            if isinstance(result, SendTerminal):
                assert result.integration_fault is fault
            else:
                assert result.retry_after_seconds == retry_after
            await world.sandbox.drain()
            assert world.sandbox.log.sends() == [] and world.receiver.received == []

    _run(scenario)


def test_random_rejections_use_the_scenario_codes() -> None:
    async def scenario() -> None:
        async with _world({"reject_rate": 1.0, "reject_codes": ["21217"]}) as world:
            result = await world.client.send(_call())
            assert isinstance(result, SendTerminal) and result.failure.code == "21217"

    _run(scenario)


def test_bad_credentials_or_caller_id_are_integration_faults() -> None:
    async def scenario() -> None:
        async with _world(auth_token="wrong-token") as world:
            result = await world.client.send(_call())
            assert isinstance(result, SendTerminal) and result.integration_fault
            assert result.failure.code == "20003"
            check = await world.client.check_connection()
            assert (check.connected, check.reason) == (False, "20003 (HTTP 401): Authenticate")
        async with _world(caller_id="+15005550006") as world:
            result = await world.client.send(_call())
            assert isinstance(result, SendTerminal) and result.integration_fault
            assert result.failure.code == "21210"
            check = await world.client.check_connection()
            assert check.connected
            assert check.reason == "connected; account 'Herald sandbox account' is active"

    _run(scenario)


def test_the_sandbox_checks_the_request_like_twilio() -> None:
    async def scenario() -> None:
        async with _world() as world, aiohttp.ClientSession() as session:
            sid = CREDENTIALS.twilio_account_sid
            url = f"{world.sandbox.base_url}/2010-04-01/Accounts/{sid}/Calls.json"
            auth = {
                "Authorization": "Basic " + base64.b64encode(f"{sid}:{TOKEN}".encode()).decode()
            }
            base = {"To": "+34600111222", "From": CREDENTIALS.twilio_number}
            cases = [
                (base | {"Twiml": "<Response><Say>Hi</Response>"}, "12100"),
                (base, "21205"),
                (base | {"Twiml": "<Response/>", "Url": "https://x.test/t"}, "21205"),
                (base | {"Twiml": "<Response/>", "StatusCallback": "ftp://x"}, "21609"),
            ]
            for form, code in cases:
                async with session.post(url, data=form, headers=auth) as response:
                    answer = HttpAnswer(
                        response.status, dict(response.headers), await response.read()
                    )
                result = classify_send_answer(answer)
                assert isinstance(result, SendTerminal) and result.failure.code == code, form
            other = url.replace(sid, "AC" + "f" * 32)
            async with session.post(other, data=base, headers=auth) as response:
                assert response.status == 404 and (await response.json())["code"] == 20404

    _run(scenario)


def test_tampered_or_unsigned_callbacks_are_refused() -> None:
    async def scenario() -> None:
        async with _world() as world:
            assert isinstance(await world.client.send(_call()), SendAccepted)
            await world.sandbox.drain()
            callbacks = world.receiver.at(STATUS_PATH)
            [completed] = [c for c in callbacks if c.field("CallStatus") == "completed"]
            assert _signed(completed)
            signature = completed.headers[SIGNATURE_HEADER]
            form = completed.form()
            busy = [(n, "busy" if n == "CallStatus" else v) for n, v in form]
            assert not verify_signature(completed.url, busy, signature, TOKEN)
            assert not verify_signature(completed.url.replace("s1", "s9"), form, signature, TOKEN)
            assert not verify_signature(completed.url, form, signature, "another-token")
            assert not verify_signature(completed.url, form, None, TOKEN)

    _run(scenario)


def test_a_slow_answer_is_unknown_and_an_unreachable_api_retryable() -> None:
    async def scenario() -> None:
        async with _world({"latency_ms": 200}, timeout_seconds=0.05) as world:
            result = await world.client.send(_call())
            assert isinstance(result, SendUnknown) and "no answer" in result.reason
            port = world.sandbox.ports["http"]
        settings = world.client.settings.model_copy(
            update={"api_base_url": f"http://127.0.0.1:{port}"}
        )
        async with create_client_session() as session:
            client = create_client(settings, session)
            refused = await client.send(_call())
            assert isinstance(refused, SendRetryable) and refused.failure.code == "CONNECTION_ERROR"
            check = await client.check_connection()
            assert not check.connected and check.reason.startswith("cannot reach Twilio")

    _run(scenario)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "kind"),
    [
        (201, b"<Response/>", "text/xml", SendUnknown),
        (201, b'{"sid": null}', "application/json", SendUnknown),
        (503, b"<html>Service Unavailable</html>", "text/html", SendRetryable),
        (401, b"", "text/plain", SendTerminal),
    ],
)
def test_malformed_answers(status: int, body: bytes, content_type: str, kind: type) -> None:
    async def scenario() -> None:
        runner, base_url = await serve_fixed(status, body, content_type)
        try:
            async with create_client_session() as session:
                settings = TwilioSettings(
                    api_base_url=base_url,
                    account_sid="AC" + "a" * 32,
                    auth_token="t",
                    caller_id="+15017122661",
                    public_base_url="https://herald.example.test",
                )
                client = create_client(settings, session)
                assert isinstance(await client.send(_call()), kind)
                check = await client.check_connection()
                assert not check.connected  # no answer here is an account resource
        finally:
            await runner.cleanup()

    _run(scenario)


def test_scenario_codes_twilio_cannot_produce_are_refused_at_start() -> None:
    async def scenario() -> None:
        with pytest.raises(ValidationError, match="not a Twilio API error code") as caught:
            async with SandboxServer(Scenario(voice=ChannelScenario(reject_codes=["131026"]))):
                pass
        assert caught.value.field == "voice.reject_codes"
        rules = [ScriptedRule(match="+1", fail="EC_UNKNOWN_SUBSCRIBER")]
        with pytest.raises(ValidationError, match="not a call outcome"):
            async with SandboxServer(Scenario(voice=ChannelScenario(rules=rules))):
                pass

    _run(scenario)
