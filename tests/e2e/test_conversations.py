"""Conversations in a real browser: filter by the campaign's tag, open a thread, hand off."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from herald.services.conversations import ConversationServices
from herald.services.suppression import is_suppressed
from tests.e2e.conftest import LiveHerald, screenshot
from tests.support.live_campaigns import launch_campaign, signed_in, wait_until_final

pytestmark = pytest.mark.e2e
TAG = "vaccination-drive"


@pytest.fixture(scope="module")
def answered_campaign(live_herald: LiveHerald) -> Iterator[int]:
    """A finished campaign; the sandbox has some people reply to it."""
    campaign_id = launch_campaign(live_herald, "Vaccination drive", seed=9)
    assert wait_until_final(live_herald, campaign_id) == "sent"
    yield campaign_id


def _replied_conversation(live: LiveHerald, campaign_id: int) -> int:
    """A conversation of the campaign in which the person wrote something."""
    services = ConversationServices(live.herald.clock)
    with live.herald.sessions() as session:
        page = services.list(session, campaign_id=campaign_id, limit=200)
        replied = [item for item in page.items if item.last_inbound_at is not None]
    assert replied, "the sandbox scenario has people reply"
    return int(replied[0].id)


def _sms_conversation(live: LiveHerald, campaign_id: int) -> int:
    """An SMS conversation of the campaign whose address may still be written to
    (SMS has no 24-hour window; compressed time closes WhatsApp's in two seconds)."""
    services = ConversationServices(live.herald.clock)
    with live.herald.sessions() as session:
        page = services.list(session, campaign_id=campaign_id, channel="sms", limit=200)
        for item in page.items:
            if not is_suppressed(session, item.address, item.channel):
                return int(item.id)
    raise AssertionError("no SMS conversation to reply in")


def test_filter_by_the_campaign_tag_and_open_a_thread(
    page: Page, live_herald: LiveHerald, answered_campaign: int
) -> None:
    signed_in(page, live_herald)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Conversations").click()
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.get_by_label("Tag", exact=True).fill(TAG)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"tag={TAG}"))
    rows = page.locator("table.conversation-list tbody tr")
    expect(rows.first).to_be_visible()
    for index in range(rows.count()):
        expect(rows.nth(index).get_by_text(TAG, exact=True)).to_be_visible()
    screenshot(page, "conversations-filtered")

    conversation_id = _replied_conversation(live_herald, answered_campaign)
    page.goto(f"/conversations/{conversation_id}")
    expect(page.locator(".bubble.author-contact").first).to_be_visible()
    expect(page.locator(".bubble.author-campaign").first).to_be_visible()
    screenshot(page, "conversation-thread")


def test_hand_off_switch_and_a_reply_from_the_team(
    page: Page, live_herald: LiveHerald, answered_campaign: int
) -> None:
    signed_in(page, live_herald)
    conversation_id = _sms_conversation(live_herald, answered_campaign)
    page.goto(f"/conversations/{conversation_id}")
    switch = page.get_by_role("switch")
    if switch.get_attribute("aria-checked") == "false" and switch.is_enabled():
        switch.click()  # give it back to the agent first
        expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "true")
    if page.get_by_role("button", name="Reopen conversation").count():
        page.get_by_role("button", name="Reopen conversation").click()
    page.get_by_role("switch").click()
    expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "false")
    expect(page.get_by_role("status")).to_contain_text("The agent is off")
    page.get_by_label("Reply as yourself").fill("Thanks, a colleague will call you today.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Reply queued")
    expect(page.locator(".bubble.author-user").last).to_contain_text("a colleague will call")
    screenshot(page, "conversation-handed-off")
    page.set_viewport_size({"width": 375, "height": 800})
    for path in (f"/conversations/{conversation_id}", f"/conversations?tag={TAG}"):
        page.goto(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px too wide at phone width"
    screenshot(page, "conversations-phone")
