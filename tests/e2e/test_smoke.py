"""The browser reaches Herald: sign-in, the main navigation, sign-out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveHerald, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_sign_in_shows_the_navigation_and_sign_out_returns_to_login(
    page: Page, live_herald: LiveHerald
) -> None:
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login"))
    screenshot(page, "login")
    sign_in(page, live_herald)
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Campaigns", "Conversations", "Integrations", "Agents", "Settings"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login"))
