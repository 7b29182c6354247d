"""Replies end to end over HTTP: the sandbox, Herald's webhooks and every worker.

Herald serves its webhooks on loopback and runs the workers exactly as
``herald serve`` does; the sandbox emulates WhatsApp and Infobip, replies as
scripted and posts signed webhooks. What the sandbox accepted is the
independent record of what people received.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fastapi import FastAPI

from herald.channels.sandbox.scenario import ChannelScenario, Scenario, ScriptedRule
from herald.channels.sandbox.server import SandboxServer
from herald.domain.channels import Channel, IntegrationKind
from herald.services.audiences import import_audience
from herald.services.campaigns import CampaignServices
from herald.services.container import Herald
from herald.services.conversations import ConversationDetail, ConversationServices
from herald.services.runtime import build_runner
from herald.services.suppression import is_suppressed
from herald.web.app import create_app
from tests.support.engine import reminder_journey
from tests.webhook_support import add_integration, make_herald, serve

ANA = "+34600111222"  # reads the reminder, then asks a question (to every message she gets)
BEN = "+34600333444"  # has no WhatsApp; texts STOP to the SMS fallback
STRANGER = "+447700900123"  # writes without having been contacted
CSV = f"phone,name,appointment_date\n{ANA},Ana,Tuesday\n{BEN},Ben,Wednesday\n"
QUESTION = "Can I bring my dog?"
HOLDING = "Thanks for your message. A member of our team will get back to you shortly."
DEADLINE_SECONDS = 30


@dataclass
class World:
    herald: Herald
    app: FastAPI
    url: str


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    built: dict[str, Any] = {}

    def build(base_url: str) -> FastAPI:
        built["herald"] = make_herald(database_url, tmp_path, public_base_url=base_url)
        built["app"] = create_app(built["herald"])
        return built["app"]  # type: ignore[no-any-return]

    with serve(build) as url:
        yield World(built["herald"], built["app"], url)
    built["herald"].close()


def test_replies_through_the_sandbox_are_answered_stopped_and_never_dropped(
    world: World,
) -> None:
    # People answer a second after delivery: long enough for Herald to have
    # recorded the send they answer (a reply routes by the message it names or
    # by the address of a contact Herald has sent to).
    knobs = {"delivery_delay_seconds": 0.05, "reply_delay_seconds": 1.0, "read_rate": 1.0}
    ana_asks = ScriptedRule(match=ANA, reply=QUESTION)
    ben_has_no_whatsapp = ScriptedRule(match=BEN, reject="131026")
    scenario = Scenario(
        seed=3,
        webhook_base_url=world.url,
        whatsapp=ChannelScenario(rules=[ana_asks, ben_has_no_whatsapp], **knobs),
        sms=ChannelScenario(rules=[ScriptedRule(match=BEN, reply="Stop")], **knobs),
    )
    sandbox = asyncio.run(_run(world, scenario))

    sends = [(s.provider, s.to, s.correlation_key or "") for s in sandbox.log.sends()]
    to_ana = [s for s in sends if s[1] == ANA]
    # The reminder, then the agent's answer (not a journey step). The answer hands
    # the conversation to a person, so her next question gets no second answer.
    assert [provider for provider, _to, _key in to_ana] == ["whatsapp", "whatsapp"]
    assert to_ana[1][2].startswith("r")
    assert [s[0] for s in sends if s[1] == BEN] == ["infobip_sms"]  # no answer to STOP
    assert [s[0] for s in sends if s[1] == STRANGER] == ["whatsapp"]
    assert sandbox.log.duplicate_keys() == {}

    ana = _conversation(world.herald, ANA, Channel.WHATSAPP)
    assert [(m.author.value, m.text) for m in ana.messages][:3] == [
        ("campaign", "template appointment_reminder (en): Ana | Tuesday"),
        ("contact", QUESTION),
        ("agent", HOLDING),
    ]
    assert ana.messages[0].status == "read"
    assert ana.messages[2].status in {"accepted", "sent", "delivered", "read"}
    assert ana.conversation.tags == ("reminders", "question")
    assert ana.conversation.status.value == "handed_off"
    ben = _conversation(world.herald, BEN, Channel.SMS)
    assert [(m.text, m.agent_status) for m in ben.messages if m.author.value == "contact"] == [
        ("Stop", "skipped")
    ]
    stranger = _conversation(world.herald, STRANGER, Channel.WHATSAPP)
    assert (stranger.conversation.campaign_id, stranger.conversation.tags) == (None, ("question",))
    assert stranger.messages[-1].text == HOLDING
    campaign_id = _campaign_id(world)
    with world.herald.sessions() as session:
        assert is_suppressed(session, BEN, Channel.SMS)
        progress = CampaignServices(world.herald.clock).progress(session, campaign_id)
    assert progress.outcomes == {"opted_out": 1, "replied": 1}  # Ana's follow-up is off


async def _run(world: World, scenario: Scenario) -> SandboxServer:
    async with SandboxServer(scenario) as sandbox, aiohttp.ClientSession() as http:
        add_integration(
            world.herald,
            IntegrationKind.WHATSAPP,
            name="clinic-whatsapp",
            graph_base_url=sandbox.base_url,
        )
        add_integration(
            world.herald,
            IntegrationKind.INFOBIP_SMS,
            name="clinic-sms",
            base_url=sandbox.base_url,
            notify_url_base=world.url,
        )
        runner = build_runner(world.herald, http)
        world.app.state.on_events_recorded = lambda: runner.wake("router")
        working = asyncio.create_task(runner.run())
        try:
            _launch(world.herald)
            await _wait_for_agent_answer(world.herald, ANA)
            stranger = {"from": STRANGER, "text": "Hello, who is this?"}
            async with http.post(f"{sandbox.base_url}/_sandbox/whatsapp/inbound", json=stranger):
                pass
            await _wait_for_agent_answer(world.herald, STRANGER)
            await sandbox.drain()
        finally:
            runner.stop()
            await working
        return sandbox


def _launch(herald: Herald) -> None:
    imported = import_audience(
        herald.engine,
        io.BytesIO(CSV.encode()),
        name="patients",
        filename="patients.csv",
        clock=herald.clock,
        default_region="ES",
    )
    campaigns = CampaignServices(herald.clock)
    with herald.sessions() as session:
        draft = campaigns.create_draft(
            session, name="Reminders", audience_id=imported.audience.id, journey=reminder_journey()
        )
        campaigns.launch(session, draft.id)


def _campaign_id(world: World) -> int:
    with world.herald.sessions() as session:
        [campaign] = CampaignServices(world.herald.clock).list(session)
        return int(campaign.id)


async def _wait_for_agent_answer(herald: Herald, address: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if await asyncio.to_thread(_has_answer, herald, address):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no agent answer to {address} within {DEADLINE_SECONDS} s")


def _has_answer(herald: Herald, address: str) -> bool:
    with herald.sessions() as session:
        page = ConversationServices(herald.clock).list(session, text=address)
        for item in page.items:
            detail = ConversationServices(herald.clock).get(session, item.id)
            if any(m.author.value == "agent" and m.status != "sending" for m in detail.messages):
                return True
    return False


def _conversation(herald: Herald, address: str, channel: Channel) -> ConversationDetail:
    with herald.sessions() as session:
        service = ConversationServices(herald.clock)
        [item] = service.list(session, text=address, channel=channel).items
        return service.get(session, item.id)
