"""The administration pages in a real browser: home, integrations, agents, suppression,
settings; at desktop and phone widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect

from herald.channels.sandbox.scenario import SandboxCredentials
from tests.e2e.conftest import LiveHerald, screenshot, sign_in

pytestmark = pytest.mark.e2e

CREDS = SandboxCredentials()
PHONE = {"width": 375, "height": 812}


def test_home_dashboard(page: Page, live_herald: LiveHerald) -> None:
    sign_in(page, live_herald)
    page.goto("/")
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    expect(page.get_by_role("link", name="+ Create a campaign")).to_have_attribute(
        "href", "/campaigns/new"
    )
    integrations = page.get_by_role("region", name="Integrations")
    expect(integrations.get_by_role("link", name="demo-sms")).to_be_visible()
    screenshot(page, "admin-home")


def test_add_an_integration_against_the_sandbox_and_test_it(
    page: Page, live_herald: LiveHerald
) -> None:
    sign_in(page, live_herald)
    page.goto("/integrations")
    expect(page.get_by_role("link", name="demo-whatsapp")).to_be_visible()
    screenshot(page, "admin-integrations")
    page.get_by_role("link", name="+ Add integration").click()
    screenshot(page, "admin-integration-kinds")
    page.get_by_role("link", name=re.compile("Infobip SMS")).click()
    page.get_by_label("Name").fill("Browser SMS")
    page.get_by_label("Base URL").fill(live_herald.sandbox.base_url)
    page.get_by_label("API key").fill(CREDS.infobip_api_key)
    page.get_by_label("Sender").fill("Browser")
    page.get_by_label("Webhook secret").fill(CREDS.infobip_webhook_secret)
    screenshot(page, "admin-integration-new")
    page.get_by_role("button", name="Add integration").click()
    expect(page.get_by_role("status")).to_contain_text("Integration added")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("status")).to_contain_text("Connection tested")
    expect(page.locator("#health-reason")).to_contain_text("connected")
    connection = page.get_by_role("region", name="Connection")
    expect(connection.locator('[data-status="healthy"]')).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(CREDS.infobip_api_key)
    screenshot(page, "admin-integration-detail")
    asked: list[str] = []

    def decline(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.get_by_role("button", name="Deactivate").click()
    assert asked == [
        "Deactivate Browser SMS? No campaign sends through it until you activate it again."
    ]
    expect(connection.locator('[data-status="active"]')).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Deactivate").click()
    expect(connection.locator('[data-status="inactive"]')).to_be_visible()
    page.get_by_role("button", name="Activate").click()
    expect(connection.locator('[data-status="active"]')).to_be_visible()


def test_create_and_publish_an_agent_version(page: Page, live_herald: LiveHerald) -> None:
    sign_in(page, live_herald)
    page.goto("/agents/new?kind=rules")
    page.get_by_label("Name").fill("Browser desk")
    page.get_by_label("Description").fill("Answers confirmations")
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("status")).to_contain_text("Agent created")
    editor = page.get_by_label("Configuration (JSON)")
    text = editor.input_value().replace("see you!", "see you soon!")
    editor.fill(text)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Draft saved")
    page.get_by_role("button", name="Publish v1").click()
    expect(page.get_by_role("status")).to_contain_text("Version published")
    expect(page.locator("#version-config")).to_contain_text("see you soon!")
    expect(page.get_by_role("heading", name="Start draft v2")).to_be_visible()
    screenshot(page, "admin-agent-detail")
    page.goto("/agents")
    row = page.get_by_role("row", name=re.compile("Browser desk"))
    expect(row.locator('[data-status="published"]')).to_be_visible()
    screenshot(page, "admin-agents")


def test_add_search_and_remove_a_suppression(page: Page, live_herald: LiveHerald) -> None:
    sign_in(page, live_herald)
    page.goto("/suppression")
    page.get_by_label("Phone or email").fill("Browser.Person@Example.com")
    page.get_by_label("Note").fill("asked at the desk")
    page.get_by_role("button", name="Add to the list").click()
    expect(page.get_by_role("status")).to_contain_text("Address added")
    page.get_by_label("Search addresses").fill("browser.person")
    page.get_by_role("button", name="Search").click()
    table = page.locator("#suppression-entries")
    expect(table).to_contain_text("browser.person@example.com")
    screenshot(page, "admin-suppression")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove browser.person@example.com").click()
    expect(page.get_by_role("status")).to_contain_text("Suppression removed")


def test_create_and_revoke_an_api_key_then_read_the_audit_log(
    page: Page, live_herald: LiveHerald
) -> None:
    sign_in(page, live_herald)
    page.goto("/settings")
    expect(page.locator(f'[data-user="{live_herald.admin_email}"]')).to_be_visible()
    screenshot(page, "admin-settings-users")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Browser CRM")
    page.get_by_label("Scope").select_option("write")
    page.get_by_role("button", name="Create key").click()
    token = page.locator("#api-key-token")
    expect(token).to_have_text(re.compile(r"^hk_[a-z0-9]{8}_[A-Za-z0-9]{40}$"))
    screenshot(page, "admin-settings-api-key-created")
    prefix = token.inner_text().split("_")[1]
    page.goto("/settings/api-keys")
    expect(page.locator("#api-key-token")).to_have_count(0)
    row = page.locator(f'[data-key="{prefix}"]')
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke Browser CRM").click()
    expect(page.get_by_role("status")).to_contain_text("API key revoked")
    expect(page.locator(f'[data-key="{prefix}"] [data-status="revoked"]')).to_be_visible()
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("#audit-entries")).to_contain_text("api_key.revoked")
    screenshot(page, "admin-settings-audit")


def test_phone_width_folds_the_navigation_and_nothing_overflows(
    page: Page, live_herald: LiveHerald
) -> None:
    long_name = "Clinic-" + "x" * 110  # no space to break at
    with live_herald.herald.sessions() as session:
        if live_herald.herald.integrations.find_by_name(session, long_name) is None:
            settings = {"host": "127.0.0.1", "security": "none", "from_address": "a@b.example"}
            live_herald.herald.integrations.create(
                session, name=long_name, kind="email_smtp", settings=settings
            )
    page.set_viewport_size(PHONE)
    sign_in(page, live_herald)
    for path in (
        "/",
        "/integrations",
        "/integrations/new?kind=email_smtp",
        "/agents",
        "/agents/new?kind=rules",
        "/suppression",
        "/settings",
        "/settings/api-keys",
        "/settings/audit",
    ):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(nav).to_be_hidden()
    screenshot(page, "admin-home-phone")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Integrations")).to_be_visible()
    screenshot(page, "admin-home-phone-menu")
    nav.get_by_role("link", name="Integrations").click()
    expect(page).to_have_url(re.compile(r"/integrations$"))
