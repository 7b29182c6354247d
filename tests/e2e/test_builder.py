"""The campaign builder in a real browser: upload, flagged rows, journey, preview, start."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from herald.domain.campaign import CampaignStatus
from tests.e2e.conftest import LiveHerald, screenshot, sign_in

pytestmark = pytest.mark.e2e

SAMPLE = (
    Path(__file__).resolve().parents[2] / "src" / "herald" / "samples" / "messy-excel-export.csv"
)
DROP_FILE = """(text) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([text], "messy-excel-export.csv", { type: "text/csv" }));
  return transfer;
}"""


def campaign_id_of(page: Page) -> int:
    match = re.search(r"/campaigns/(\d+)/", page.url)
    assert match, page.url
    return int(match.group(1))


def create_draft(page: Page) -> int:
    page.goto("/campaigns")
    screenshot(page, "campaigns-list")
    page.get_by_role("button", name="+ Create").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+/setup$"))
    return campaign_id_of(page)


def set_up(page: Page) -> None:
    page.get_by_label("Name").fill("Clinic reminders — browser")
    expect(page.locator("#derived-tag")).to_have_text("clinic-reminders-browser")
    page.get_by_label("Extra tags").fill("e2e")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Name")).to_have_value("Clinic reminders — browser")


def drop_sample(page: Page) -> None:
    """Drop the file onto the drop zone, as a user dragging it from their desktop would."""
    transfer = page.evaluate_handle(DROP_FILE, SAMPLE.read_bytes().decode("utf-8"))
    page.dispatch_event("[data-drop-zone]", "drop", {"dataTransfer": transfer})
    expect(page.get_by_text("The file was imported.")).to_be_visible()


def remove_flagged_rows(page: Page) -> None:
    flagged = page.locator("tr.flagged")
    expect(flagged).to_have_count(8)
    phone_cell = page.locator('tr[data-row="3"] td.cell-flagged')
    expect(phone_cell).to_have_attribute("title", re.compile("is not a valid phone number"))
    expect(page.locator('tr[data-row="4"]')).to_contain_text("neither a phone nor an email")
    screenshot(page, "builder-1-setup-flagged")
    page.get_by_role("button", name="Remove row 8").click()
    expect(flagged).to_have_count(7)
    page.get_by_role("button", name="Remove all 7 flagged rows").click()
    expect(flagged).to_have_count(0)
    expect(page.locator(".summary-panel")).to_contain_text("Contacts3")
    screenshot(page, "builder-1-setup-clean")


def compose_primary(page: Page) -> None:
    page.locator("#primary-integration").select_option("demo-whatsapp")
    expect(page.locator("#primary-wa-name")).to_be_visible()
    page.locator("#primary-wa-name").fill("appointment_reminder")
    page.locator("#primary-wa-language").fill("en")
    page.get_by_role("button", name="+ Add parameter").click()
    page.locator("#primary-param-1").select_option("full_name")
    page.locator("#primary-param-text-1").fill("there")
    page.get_by_role("button", name="+ Add parameter").click()
    expect(page.locator("#primary-param-1")).to_have_value("full_name")
    page.locator("#primary-param-2").select_option("appointment_date")
    # The account's template list knows the template: the preview shows its body filled in.
    expect(page.locator("#preview [data-template-text]")).to_have_text(
        "Hi Alex Doe, this is a reminder of your appointment on 2024-09-12. Reply YES to confirm."
    )


def compose_fallback(page: Page) -> None:
    page.get_by_label("Send a fallback if not delivered").check()
    expect(page.locator("#section-fallback-1")).to_be_visible()
    page.locator("#fallback-1-integration").select_option("demo-sms")
    text = page.locator("#fallback-1-sms-text")
    expect(text).to_be_visible()
    text.click()
    text.press_sequentially("Hi {{ful")
    picker = page.get_by_role("listbox", name="Columns")
    expect(picker).to_be_visible()
    expect(picker.get_by_role("option")).to_have_text(["full_name"])
    screenshot(page, "builder-2-variable-picker")
    text.press("Enter")
    text.press_sequentially(", see you on {{appointment_date}}.")
    expect(text).to_have_value("Hi {{full_name}}, see you on {{appointment_date}}.")
    expect(page.locator("#fallback-1-sms-measure")).to_contain_text("1 SMS")
    expect(page.locator("#preview")).to_contain_text("Hi Alex Doe, see you on 2024-09-12.")


def compose_follow_up(page: Page) -> None:
    page.get_by_label("Follow up if there is no response").check()
    expect(page.locator("#section-follow-up")).to_be_visible()
    page.get_by_label("Follow up after").select_option("3")
    page.locator("#follow-up-integration").select_option("demo-sms")
    page.locator("#follow-up-sms-text").fill("Can you still make it, {{full_name|there}}?")
    expect(page.locator("#follow-up-sms-measure")).to_have_text("43 characters · GSM-7 · 1 SMS")
    page.get_by_label("Contact", exact=True).select_option("13")  # Kofi Mensah
    expect(page.locator("#preview")).to_contain_text("Can you still make it, Kofi Mensah?")


def test_build_and_launch_a_campaign_in_the_browser(page: Page, live_herald: LiveHerald) -> None:
    sign_in(page, live_herald)
    campaign_id = create_draft(page)
    set_up(page)
    drop_sample(page)
    remove_flagged_rows(page)

    page.get_by_role("button", name="Next: message journey →").click()
    page.wait_for_url(re.compile(r"/journey"))
    compose_primary(page)
    screenshot(page, "builder-2-journey-primary")
    compose_fallback(page)
    screenshot(page, "builder-2-journey-fallback")
    compose_follow_up(page)
    screenshot(page, "builder-2-journey-follow-up")
    primary_tab = page.get_by_role("tab", name="Primary message")
    primary_tab.click()
    primary_tab.press("ArrowRight")  # the tabs answer the arrow keys
    expect(page.locator("#section-fallback-1")).to_be_visible()
    expect(page.locator("#section-primary")).to_be_hidden()
    page.get_by_role("tab", name="Fallback 1").press("ArrowLeft")
    expect(page.locator("#section-primary")).to_be_visible()
    expect(page.locator("#preview [data-template-text]")).to_contain_text("Hi Kofi Mensah,")
    expect(page.locator("[data-step-findings]")).to_have_text("No problem found in this step.")

    # The step indicator saves unsaved changes before it moves on.
    page.get_by_role("navigation", name="Builder steps").get_by_role("link", name="Review").click()
    page.wait_for_url(re.compile(r"/review$"))
    expect(page.locator('[data-flow-step="fallback-1"]')).to_contain_text("demo-sms")
    expect(page.locator('[data-flow-step="follow-up"]')).to_contain_text("after 3 days")
    expect(page.get_by_text("Every check passed.")).to_be_visible()
    screenshot(page, "builder-3-review")
    page.get_by_label("Send now").check()
    page.get_by_role("button", name="Review & start").click()
    page.wait_for_url(re.compile(rf"/campaigns/{campaign_id}$"))

    with live_herald.herald.sessions() as db:
        campaign = live_herald.herald.campaigns.get(db, campaign_id)
    assert campaign.status is not CampaignStatus.DRAFT
    assert campaign.tags == ("clinic-reminders-browser", "e2e")


def test_the_builder_fits_a_phone_screen(page: Page, live_herald: LiveHerald) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_herald)
    campaign_id = create_draft(page)
    page.locator("#audience-file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("tr.flagged")).to_have_count(8)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the setup page scrolls sideways at 375px ({width}px wide)"
    screenshot(page, "builder-1-setup-phone")
    page.goto(f"/campaigns/{campaign_id}/journey")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "builder-2-journey-phone")
    page.goto(f"/campaigns/{campaign_id}/review")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "builder-3-review-phone")


def test_schedule_a_campaign_at_a_local_time(page: Page, live_herald: LiveHerald) -> None:
    herald = live_herald.herald
    with herald.sessions() as db:
        draft = herald.campaigns.create_draft(db, name="Scheduled in the browser")
        herald.campaigns.upload_audience(db, draft.id, SAMPLE)
        herald.campaigns.update_draft(db, draft.id, journey=SMS_JOURNEY)
    # Herald's clock runs a day every two seconds: a start a year ahead stays in the future.
    start = herald.clock.now().astimezone(ZoneInfo("Asia/Tokyo")) + timedelta(days=365)
    sign_in(page, live_herald)
    page.goto(f"/campaigns/{draft.id}/review")
    expect(page.get_by_label("Date", exact=True)).to_be_hidden()  # "Send now" needs no time
    page.get_by_label("Schedule for later").check()
    page.get_by_label("Date", exact=True).fill(start.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill("09:30")
    page.get_by_label("Timezone", exact=True).fill("Asia/Tokyo")
    screenshot(page, "builder-3-review-schedule")
    page.get_by_role("button", name="Review & start").click()
    page.wait_for_url(re.compile(rf"/campaigns/{draft.id}$"))
    with herald.sessions() as db:
        campaign = herald.campaigns.get(db, draft.id)
    assert campaign.status is CampaignStatus.SCHEDULED
    assert (campaign.schedule_local, campaign.schedule_timezone) == (
        f"{start:%Y-%m-%d} 09:30",
        "Asia/Tokyo",
    )


SMS_JOURNEY = {
    "primary": {
        "integration": {"name": "demo-sms", "kind": "infobip_sms"},
        "content": {"type": "sms", "text": "Hi {{full_name|there}}, see you soon."},
    }
}


def test_the_rows_table_pages_in_place(page: Page, live_herald: LiveHerald) -> None:
    rows = ["phone,name"] + [f"+1202555{index:04d},Person {index}" for index in range(120)]
    rows[100] = "not-a-phone,Broken"
    sign_in(page, live_herald)
    console: list[str] = []  # the builder's pages, from here on
    page.on("console", lambda message: console.append(message.text))
    create_draft(page)
    page.locator("#audience-file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}]
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    table = page.locator("#audience-rows")
    expect(table).to_contain_text("Rows 2–51")
    page.get_by_role("link", name="Next rows →").click()
    expect(table).to_contain_text("Rows 52–101")
    expect(page).to_have_url(re.compile(r"after=51"))
    expect(page.locator("tr.flagged")).to_have_count(1)
    page.get_by_role("link", name="Show flagged rows only").click()
    expect(table).to_contain_text("Rows 101–101")
    page.get_by_role("link", name="Show all rows").click()
    expect(table).to_contain_text("Rows 2–51")
    assert not [text for text in console if "Content Security Policy" in text]
