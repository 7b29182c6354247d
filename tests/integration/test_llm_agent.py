"""The llm agent against a loopback OpenAI-compatible server, failures included."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from herald.agents.factory import build_agent
from herald.domain.agents import AgentContext, AgentDecision, AgentKind
from herald.testing import FakeClock
from tests.agents_support import make_context

Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]
HOLDING = "A colleague will get back to you."


def completion(content: str) -> web.Response:
    return web.json_response(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
        }
    )


def answer(reply: str | None, actions: list[Any] | None = None) -> Behaviour:
    async def handler(_request: web.Request) -> web.Response:
        return completion(json.dumps({"reply": reply, "actions": actions or []}))

    return handler


async def run_agent(
    behaviour: Behaviour,
    *,
    context: AgentContext | None = None,
    environ: dict[str, str] | None = None,
    **config: Any,
) -> tuple[AgentDecision, list[tuple[dict[str, str], dict[str, Any]]]]:
    """Serve ``behaviour`` on loopback, call the agent once; return its decision and requests."""
    seen: list[tuple[dict[str, str], dict[str, Any]]] = []

    async def endpoint(request: web.Request) -> web.StreamResponse:
        seen.append((dict(request.headers), await request.json()))
        return await behaviour(request)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", endpoint)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    settings = {
        "base_url": f"http://127.0.0.1:{port}/v1/",
        "model": "tiny-model",
        "api_key_env": "HERALD_TEST_LLM_KEY",
        "system_prompt": "You are the clinic's assistant.",
        "holding_reply": HOLDING,
        "timeout_seconds": 2,
        **config,
    }
    try:
        async with aiohttp.ClientSession() as http:
            agent = build_agent(
                AgentKind.LLM,
                settings,
                clock=FakeClock(),
                http=http,
                environ={"HERALD_TEST_LLM_KEY": "sk-test-123"} if environ is None else environ,
            )
            decision = await agent.respond(context or make_context("Yes, see you!"))
    finally:
        await runner.cleanup()
    return decision, seen


def test_a_good_answer_becomes_the_decision() -> None:
    actions = [
        {"type": "add_tags", "tags": ["confirmed"]},
        {"type": "set_outcome", "outcome": "confirmed"},
    ]
    decision, seen = asyncio.run(run_agent(answer("Great, see you Thursday!", actions)))
    assert decision == AgentDecision(
        reply="Great, see you Thursday!", tags=("confirmed",), outcome="confirmed"
    )
    headers, body = seen[0]
    assert headers["Authorization"] == "Bearer sk-test-123"
    assert body["model"] == "tiny-model"
    assert body["response_format"] == {"type": "json_object"}
    roles = [message["role"] for message in body["messages"]]
    assert roles == ["system", "system", "assistant", "user"]
    assert body["messages"][0]["content"] == "You are the clinic's assistant."
    facts = body["messages"][1]["content"]
    assert '"appointment_date": "Thu"' in facts and '"Spring check-ups"' in facts
    assert '"+12025550101"' in facts and "set_outcome" in facts
    assert '"received_at": "2025-01-06T09:05:00+00:00"' in facts
    assert body["messages"][2]["content"] == "Reminder: your appointment is on Thursday."
    assert body["messages"][3]["content"] == "Yes, see you!"


def test_json_wrapped_in_prose_and_fences_is_read() -> None:
    async def chatty(_request: web.Request) -> web.Response:
        return completion(
            'Here you go:\n```json\n{"reply": "Noted!", "actions": [{"type": "opt_out"}]}\n```'
        )

    decision, _ = asyncio.run(run_agent(chatty))
    assert decision.reply == "Noted!" and decision.opt_out


def test_invalid_actions_are_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    actions = [{"type": "refund", "amount": 100}, {"type": "set_outcome", "outcome": "VERY HAPPY"}]
    decision, _ = asyncio.run(run_agent(answer("Thanks!", actions)))
    assert decision.reply == "Thanks!" and decision.outcome is None and not decision.hand_off
    assert "unknown action 'refund'" in caplog.text and "outcome 'VERY HAPPY'" in caplog.text
    assert "sk-test-123" not in caplog.text


def test_an_over_long_reply_is_refused_with_a_hand_off() -> None:
    decision, _ = asyncio.run(run_agent(answer("word " * 100), max_reply_chars=50))
    assert decision.hand_off and decision.reply == HOLDING


def test_an_empty_answer_is_never_silence() -> None:
    decision, _ = asyncio.run(run_agent(answer(None)))
    assert decision.hand_off and decision.reply == HOLDING


def _is_safe_hand_off(decision: AgentDecision, reason: str) -> bool:
    return (
        decision.hand_off
        and decision.reply == HOLDING
        and decision.note is not None
        and reason in decision.note
    )


def test_http_500_hands_off(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(_request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "overloaded"}}, status=500)

    decision, _ = asyncio.run(run_agent(broken))
    assert _is_safe_hand_off(decision, "HTTP 500")
    assert "sk-test-123" not in caplog.text


def test_a_timeout_hands_off() -> None:
    release = asyncio.Event()

    async def stuck(_request: web.Request) -> web.Response:
        await release.wait()
        return completion("{}")

    async def scenario() -> AgentDecision:
        try:
            decision, _ = await run_agent(stuck, timeout_seconds=0.1)
        finally:
            release.set()
        return decision

    assert _is_safe_hand_off(asyncio.run(scenario()), "no answer within 0.1 s")


@pytest.mark.parametrize(
    ("content", "reason"),
    [("I'd rather not answer in JSON.", "no JSON object"), ('{"reply": 5}', "'reply' must be")],
)
def test_unreadable_output_hands_off(content: str, reason: str) -> None:
    async def odd(_request: web.Request) -> web.Response:
        return completion(content)

    decision, _ = asyncio.run(run_agent(odd))
    assert _is_safe_hand_off(decision, reason)


def test_a_body_that_is_not_a_completion_hands_off() -> None:
    async def wrong(_request: web.Request) -> web.Response:
        return web.json_response({"result": "ok"})

    decision, _ = asyncio.run(run_agent(wrong))
    assert _is_safe_hand_off(decision, "not a chat completion")


def test_a_missing_key_variable_hands_off_without_calling() -> None:
    decision, seen = asyncio.run(run_agent(answer("hi"), environ={}))
    assert _is_safe_hand_off(decision, "HERALD_TEST_LLM_KEY is not set")
    assert seen == []


def test_no_holding_reply_still_hands_off() -> None:
    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=503)

    decision, _ = asyncio.run(run_agent(broken, holding_reply=None))
    assert decision.hand_off and decision.reply is None


def test_an_endpoint_without_key_sends_no_authorization() -> None:
    _, seen = asyncio.run(run_agent(answer("hi"), api_key_env=None, environ={}))
    assert "Authorization" not in seen[0][0]


def test_an_unreachable_endpoint_hands_off() -> None:
    async def scenario() -> AgentDecision:
        async with aiohttp.ClientSession() as http:
            agent = build_agent(
                AgentKind.LLM,
                {"base_url": "http://127.0.0.1:9/v1", "model": "m", "holding_reply": HOLDING},
                clock=FakeClock(),
                http=http,
            )
            return await agent.respond(make_context("hi"))

    assert _is_safe_hand_off(asyncio.run(scenario()), "cannot reach")
