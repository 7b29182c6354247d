"""Each agent kind answering real conversations: an LLM endpoint and a user's bot on loopback.

The fake OpenAI-compatible endpoint and the bot run in a thread of their own
while the workers run round by round; both record what Herald sent them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from herald.domain.agents import AgentKind
from herald.domain.channels import IntegrationKind
from herald.errors import ConflictError, ValidationError
from herald.services.conversation_replies import post_agent_answer
from tests.support.conversations import ConversationHarness
from tests.support.engine import reminder_journey
from tests.support.loopback import LoopbackApp

WA = IntegrationKind.WHATSAPP
ALEX = "+12025550101"
CSV = f"phone,name,appointment_date\n{ALEX},Alex,2025-03-10\n"
HOLDING = "Thanks, a colleague will write to you."
BOT_SECRET = "bot-secret-for-conversation-tests"


class Remote:
    """A loopback service answering each POST with the next prepared answer."""

    def __init__(self, path: str) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[web.Response] = []
        self.app = web.Application()
        self.app.router.add_post(path, self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        return self.answers.pop(0)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.requests]


def completion(reply: str | None, actions: list[dict[str, Any]]) -> web.Response:
    content = json.dumps({"reply": reply, "actions": actions})
    return web.json_response(
        {"object": "chat.completion", "choices": [{"message": {"content": content}}]}
    )


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[ConversationHarness]:
    harness = ConversationHarness.create(database_url, tmp_path)
    harness.environ["TEST_LLM_KEY"] = "sk-loopback"
    yield harness
    harness.close()


@pytest.fixture
def llm() -> Iterator[tuple[Remote, str]]:
    remote = Remote("/v1/chat/completions")
    with LoopbackApp(remote.app) as base_url:
        yield remote, f"{base_url}/v1"


@pytest.fixture
def bot() -> Iterator[tuple[Remote, str]]:
    remote = Remote("/bot")
    with LoopbackApp(remote.app) as base_url:
        yield remote, f"{base_url}/bot"


def launch_with(harness: ConversationHarness, kind: AgentKind, config: dict[str, Any]) -> int:
    version = harness.publish_agent(f"{kind.value} agent", kind, config)
    campaign = harness.launch_campaign(
        CSV, reminder_journey(), name="Spring check-ups", agent_version_id=version
    )
    harness.settle()
    return campaign


def llm_config(base_url: str) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "model": "tiny",
        "api_key_env": "TEST_LLM_KEY",
        "system_prompt": "You are the clinic's front desk.",
        "holding_reply": HOLDING,
        "timeout_seconds": 5,
    }


def test_the_llm_agent_sees_the_conversation_and_its_actions_apply(
    harness: ConversationHarness, llm: tuple[Remote, str]
) -> None:
    remote, base_url = llm
    launch_with(harness, AgentKind.LLM, llm_config(base_url))
    remote.answers.append(
        completion(
            "Of course, 5 pm works. See you then!",
            [
                {"type": "set_outcome", "outcome": "reschedule"},
                {"type": "add_tags", "tags": ["Time Changed"]},
            ],
        )
    )
    harness.write(ALEX, "Could we do 5 pm instead?")
    harness.settle()

    assert harness.texts(WA, ALEX)[-1] == "Of course, 5 pm works. See you then!"
    view = harness.conversation_of(ALEX).conversation
    assert view.tags == ("spring-check-ups", "time-changed") and view.outcome == "reschedule"
    headers, _body = remote.requests[0]
    assert headers["Authorization"] == "Bearer sk-loopback"
    messages = remote.bodies()[0]["messages"]
    facts = messages[1]["content"]
    assert '"Spring check-ups"' in facts and '"appointment_date": "2025-03-10"' in facts
    assert [m["role"] for m in messages[2:]] == ["assistant", "user"]
    assert messages[2]["content"].startswith("template appointment_reminder (en): Alex")
    assert messages[3]["content"] == "Could we do 5 pm instead?"


def test_a_failing_llm_hands_off_with_the_holding_reply(
    harness: ConversationHarness, llm: tuple[Remote, str]
) -> None:
    remote, base_url = llm
    launch_with(harness, AgentKind.LLM, llm_config(base_url))
    remote.answers.append(web.Response(status=500, text="upstream exploded"))
    harness.write(ALEX, "Is parking free?")
    harness.settle()
    assert harness.texts(WA, ALEX)[-1] == HOLDING
    detail = harness.conversation_of(ALEX)
    assert detail.conversation.status.value == "handed_off"
    assert "HTTP 500" in (detail.messages[-2].note or "")
    harness.write(ALEX, "Hello?")
    harness.settle()
    assert len(remote.requests) == 1  # the agent stays out of a handed-off conversation


def signature_ok(headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers["X-Herald-Timestamp"]
    expected = hmac.new(BOT_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Herald-Signature"], "sha256=" + expected.hexdigest())


def test_a_webhook_bot_answers_inline_and_later_through_the_service(
    harness: ConversationHarness, bot: tuple[Remote, str]
) -> None:
    remote, url = bot
    config = {"url": url, "secret": BOT_SECRET, "holding_reply": HOLDING}
    launch_with(harness, AgentKind.WEBHOOK, config)
    remote.answers.append(web.json_response({"reply": "Dogs are welcome!", "actions": []}))
    harness.write(ALEX, "Can I bring my dog?")
    harness.settle()
    assert harness.texts(WA, ALEX)[-1] == "Dogs are welcome!"
    headers, body = remote.requests[0]
    assert signature_ok(headers, body)
    payload = json.loads(body)
    assert payload["message"]["text"] == "Can I bring my dog?"
    assert payload["campaign"]["tags"] == ["spring-check-ups"]

    remote.answers.append(web.Response(status=202))
    harness.write(ALEX, "And my cat?")
    harness.settle()
    sent = len(harness.channels[WA].sent)
    detail = harness.conversation_of(ALEX)
    assert detail.messages[-1].agent_status == "deferred"
    conversation_id = int(json.loads(remote.requests[1][1])["conversation_id"])
    assert conversation_id == detail.conversation.id

    answer = {"reply": "Cats too!", "actions": [{"type": "add_tags", "tags": ["pets"]}]}
    with harness.herald.sessions() as session:
        posted = post_agent_answer(
            session, conversation_id, answer, clock=harness.clock, reference="bot-1"
        )
        again = post_agent_answer(
            session, conversation_id, answer, clock=harness.clock, reference="bot-1"
        )
    assert posted.reply is not None and posted.reply.status == "queued"
    assert again.reply == posted.reply  # a retried call is the same answer
    harness.settle()
    assert harness.texts(WA, ALEX)[sent:] == ["Cats too!"]
    detail = harness.conversation_of(ALEX)
    assert "pets" in detail.conversation.tags
    assert [m.agent_status for m in detail.messages if m.author.value == "contact"] == [
        "answered",
        "answered",
    ]


def test_a_bot_error_hands_off_and_late_answers_are_refused(
    harness: ConversationHarness, bot: tuple[Remote, str]
) -> None:
    _remote, url = bot
    config = {"url": url.replace("/bot", "/nowhere"), "secret": BOT_SECRET}
    launch_with(harness, AgentKind.WEBHOOK, config | {"holding_reply": HOLDING})
    harness.write(ALEX, "Hi there")
    harness.settle()
    assert harness.texts(WA, ALEX)[-1] == HOLDING
    view = harness.conversation_of(ALEX).conversation
    assert view.status.value == "handed_off"
    with harness.herald.sessions() as session:
        with pytest.raises(ConflictError) as refused:
            post_agent_answer(session, view.id, {"reply": "Late"}, clock=harness.clock)
        assert refused.value.code == "agent_not_answering"
        harness.conversations.return_to_agent(session, view.id)
        with pytest.raises(ValidationError) as invalid:
            post_agent_answer(session, view.id, {"reply": 42}, clock=harness.clock)
        assert invalid.value.field == "answer"
