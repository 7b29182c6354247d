"""The webhook agent against a loopback bot that checks Herald's signature."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from herald.agents.factory import build_agent
from herald.domain.agents import AgentDecision, AgentKind
from herald.testing import FakeClock
from tests.agents_support import make_context

SECRET = "bot-shared-secret-0123456789"
HOLDING = "A colleague will get back to you."
Reply = Callable[[dict[str, Any]], Awaitable[web.StreamResponse]]


def verify(headers: Any, body: bytes, now: int) -> bool:
    """What a bot author writes, from the documented scheme (not from Herald's code)."""
    timestamp = headers["X-Herald-Timestamp"]
    if abs(now - int(timestamp)) > 300:
        return False
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Herald-Signature"], "sha256=" + expected.hexdigest())


async def run_bot(reply: Reply, **config: Any) -> tuple[AgentDecision, list[dict[str, Any]]]:
    clock = FakeClock()
    received: list[dict[str, Any]] = []

    async def bot(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if not verify(request.headers, body, int(clock.now().timestamp())):
            return web.Response(status=401)
        payload = json.loads(body)
        received.append(payload)
        return await reply(payload)

    app = web.Application()
    app.router.add_post("/bot", bot)
    app.router.add_post("/moved", _redirect)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    settings = {
        "url": f"http://127.0.0.1:{port}/bot",
        "secret": SECRET,
        "holding_reply": HOLDING,
        **config,
    }
    settings["url"] = settings["url"].replace("{port}", str(port))
    try:
        async with aiohttp.ClientSession() as http:
            agent = build_agent(AgentKind.WEBHOOK, settings, clock=clock, http=http)
            decision = await agent.respond(make_context("Can I bring my dog?"))
    finally:
        await runner.cleanup()
    return decision, received


async def _redirect(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/bot")


def inline(answer: dict[str, Any] | str, status: int = 200) -> Reply:
    async def reply(_payload: dict[str, Any]) -> web.Response:
        text = answer if isinstance(answer, str) else json.dumps(answer)
        return web.Response(text=text, status=status, content_type="application/json")

    return reply


def test_an_inline_answer_is_the_decision_and_the_payload_is_signed() -> None:
    answer = {
        "reply": "Of course, dogs are welcome.",
        "actions": [{"type": "add_tags", "tags": ["pets"]}],
    }
    decision, received = asyncio.run(run_bot(inline(answer)))
    assert decision == AgentDecision(reply="Of course, dogs are welcome.", tags=("pets",))
    (payload,) = received  # the bot accepted the signature
    assert payload["type"] == "message.received"
    assert payload["conversation_id"] == "c-42"
    assert payload["channel"] == "sms"
    assert payload["message"]["text"] == "Can I bring my dog?"
    assert payload["message"]["direction"] == "inbound"
    assert payload["contact"]["fields"]["name"] == "Alex"
    assert payload["campaign"] == {
        "id": 7,
        "name": "Spring check-ups",
        "tags": ["spring-check-ups"],
    }
    assert [m["text"] for m in payload["conversation"]] == [
        "Reminder: your appointment is on Thursday."
    ]


def test_202_defers_without_reply_or_hand_off() -> None:
    async def later(_payload: dict[str, Any]) -> web.Response:
        return web.Response(status=202)

    decision, _ = asyncio.run(run_bot(later))
    assert decision.deferred and decision.reply is None and not decision.hand_off
    assert not decision.is_silent


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (inline({"error": "boom"}, status=500), "HTTP 500"),
        (inline("<html>not json</html>"), "unreadable answer"),
        (inline('{"reply": ["a"]}'), "'reply' must be"),
        (inline("", status=204), "HTTP 204"),
    ],
)
def test_failures_hand_off_with_the_holding_reply(reply: Reply, reason: str) -> None:
    decision, _ = asyncio.run(run_bot(reply))
    assert decision.hand_off and decision.reply == HOLDING
    assert decision.note is not None and reason in decision.note


def test_a_timeout_hands_off() -> None:
    release = asyncio.Event()

    async def slow(_payload: dict[str, Any]) -> web.Response:
        await release.wait()
        return web.Response(status=202)

    async def scenario() -> AgentDecision:
        try:
            decision, _ = await run_bot(slow, timeout_seconds=0.1)
        finally:
            release.set()
        return decision

    decision = asyncio.run(scenario())
    assert decision.hand_off and decision.note is not None and "no answer within" in decision.note


def test_a_wrong_secret_is_rejected_by_the_bot_and_hands_off() -> None:
    decision, received = asyncio.run(run_bot(inline({"reply": "hi"}), secret="x" * 32))
    assert received == [] and decision.hand_off
    assert decision.note is not None and "HTTP 401" in decision.note


def test_redirects_are_not_followed() -> None:
    decision, received = asyncio.run(
        run_bot(inline({"reply": "hi"}), url="http://127.0.0.1:{port}/moved")
    )
    assert received == [] and decision.hand_off
    assert decision.note is not None and "HTTP 302" in decision.note


def test_an_inline_answer_with_nothing_to_say_hands_off() -> None:
    decision, _ = asyncio.run(run_bot(inline({"reply": None, "actions": []})))
    assert decision.hand_off and decision.reply == HOLDING
