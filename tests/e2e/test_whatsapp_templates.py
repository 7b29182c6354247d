"""Picking a WhatsApp template in the journey step, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveHerald, screenshot, sign_in
from tests.e2e.test_builder import create_draft, drop_sample

pytestmark = pytest.mark.e2e

REMINDER_ES = "appointment_reminder|es|2"


def test_pick_a_template_and_bind_its_parameters(page: Page, live_herald: LiveHerald) -> None:
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    sign_in(page, live_herald)
    campaign_id = create_draft(page)
    drop_sample(page)
    page.goto(f"/campaigns/{campaign_id}/journey")

    page.locator("#primary-integration").select_option("demo-whatsapp")
    picker = page.locator("#primary-wa-template-1")
    expect(picker).to_be_visible()
    options = picker.locator("option")
    expect(options.filter(has_text="appointment_reminder · es · utility")).to_have_count(1)
    expect(options.filter(has_text="spring_sale")).to_have_count(0)  # paused: not offered

    picker.select_option(REMINDER_ES)  # applies at once: the page comes back with two rows
    expect(page.locator("#primary-wa-name")).to_have_value("appointment_reminder")
    expect(page.locator("#primary-wa-language")).to_have_value("es")
    expect(page.locator("#primary-param-2")).to_be_visible()
    expect(page.locator("#primary-param-3")).to_have_count(0)
    expect(page.locator("#primary-wa-template-1")).to_have_value(REMINDER_ES)
    expect(page.locator("#section-primary [data-template-body]")).to_have_text(
        "Hi {{1}}, this is a reminder of your appointment on {{2}}. Reply YES to confirm."
    )

    page.locator("#primary-param-1").select_option("full_name")
    page.locator("#primary-param-2").select_option("appointment_date")
    expect(page.locator("#preview [data-template-text]")).to_have_text(
        "Hi Alex Doe, this is a reminder of your appointment on 2024-09-12. Reply YES to confirm."
    )
    expect(page.locator("[data-step-findings]")).not_to_contain_text("template")
    screenshot(page, "builder-2-whatsapp-template")

    # A name typed by hand that the account does not have is named by the checks.
    page.locator("#primary-wa-name").fill("appointment_remindr")
    expect(page.locator("[data-step-findings]")).to_contain_text(
        "has no template 'appointment_remindr'"
    )

    integration = page.goto("/integrations")
    assert integration is not None
    page.get_by_role("link", name="demo-whatsapp").click()
    page.wait_for_url(re.compile(r"/integrations/\d+$"))
    expect(page.locator("[data-templates]")).to_contain_text("appointment_reminder")
    page.get_by_role("button", name="Refresh templates").click()
    expect(page.get_by_text("Templates fetched again")).to_be_visible()
    screenshot(page, "integration-whatsapp-templates")
    assert not [text for text in errors if "Content Security Policy" in text]


def test_the_picker_fits_a_phone_screen(page: Page, live_herald: LiveHerald) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_herald)
    campaign_id = create_draft(page)
    drop_sample(page)
    page.goto(f"/campaigns/{campaign_id}/journey")
    page.locator("#primary-integration").select_option("demo-whatsapp")
    picker = page.locator("#primary-wa-template-1")
    picker.select_option(REMINDER_ES)
    expect(page.locator("#section-primary [data-template-body]")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways ({width}px)"
    screenshot(page, "builder-2-whatsapp-template-phone")
