"""The campaign detail pages in a real browser, against the sandbox in compressed time.

A campaign is launched through the services (the builder has its own
tests); the browser watches its progress reach Sent without a reload, opens
the log entry of a contact WhatsApp could not reach and reads the catalog's
explanation, downloads the audience, and walks the activity pages.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveHerald, screenshot
from tests.support.live_campaigns import (
    CONTACTS,
    FINISH_SECONDS,
    launch_campaign,
    signed_in,
    wait_until_final,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def finished_campaign(live_herald: LiveHerald) -> Iterator[int]:
    campaign_id = launch_campaign(live_herald, "Dental check-ups", seed=5)
    assert wait_until_final(live_herald, campaign_id) == "sent"
    yield campaign_id


def test_progress_reaches_sent_without_a_reload(page: Page, live_herald: LiveHerald) -> None:
    signed_in(page, live_herald)
    campaign_id = launch_campaign(live_herald, "Flu shot reminders", seed=3)
    page.goto(f"/campaigns/{campaign_id}")
    expect(page.get_by_role("heading", name="Flu shot reminders")).to_be_visible()
    screenshot(page, "campaign-detail-running")
    # A marker on the window survives only as long as the page is not reloaded.
    page.evaluate("window.heraldNoReload = 'still here'")
    badge = page.locator("#live-progress .badge")
    expect(badge).to_have_text("Sent", timeout=FINISH_SECONDS * 1000)
    assert page.evaluate("window.heraldNoReload") == "still here"
    expect(page.locator('#live-progress [data-outcome="in_progress"]')).to_have_text("0")
    expect(page.locator("#live-progress")).to_have_attribute("data-final", "true")
    expect(page.locator("svg.timeline-chart rect").first).to_be_attached()
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    screenshot(page, "campaign-detail-sent")
    page.reload()
    expect(page.locator("#live-progress .badge")).to_have_text("Sent")


def test_a_failed_contacts_log_entry_explains_the_code(
    page: Page, live_herald: LiveHerald, finished_campaign: int
) -> None:
    signed_in(page, live_herald)
    page.goto(f"/campaigns/{finished_campaign}")
    page.get_by_role("link", name="Message logs").click()
    page.get_by_label("Error code").select_option("131026")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"code=131026"))
    rows = page.locator("table.logs tbody tr")
    expect(rows.first).to_be_visible()
    screenshot(page, "campaign-logs-filtered")
    rows.first.locator("summary").click()
    expect(rows.first.get_by_text("The number is not registered on WhatsApp.")).to_be_visible()
    rows.first.get_by_role("link", name=re.compile(r"^#\d+$")).click()
    heading = page.get_by_role("heading", name=re.compile("whatsapp 131026: Message undeliverable"))
    expect(heading).to_be_visible()
    expect(page.get_by_text("Possible reasons:")).to_be_visible()
    expect(page.get_by_text("The person blocked the business", exact=False)).to_be_visible()
    screenshot(page, "campaign-log-entry")
    page.locator("dl.facts a[href*='/activity/']").click()
    expect(page.get_by_role("heading", name="Journey")).to_be_visible()
    expect(page.get_by_text("Delivery failed").first).to_be_visible()
    screenshot(page, "campaign-contact-journey")


def test_the_audience_downloads_as_a_safe_csv(
    page: Page, live_herald: LiveHerald, finished_campaign: int
) -> None:
    signed_in(page, live_herald)
    page.goto(f"/campaigns/{finished_campaign}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download audience CSV").click()
    download = download_info.value
    assert download.suggested_filename == "dental-check-ups-audience.csv"
    path = download.path()
    assert path is not None
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["phone", "email"]
    assert len(rows) == CONTACTS + 1
    phones = [row[0] for row in rows[1:] if row[0]]
    assert phones and all(phone.startswith("'+") for phone in phones)


def test_subscriber_activity_search_and_paging(
    page: Page, live_herald: LiveHerald, finished_campaign: int
) -> None:
    signed_in(page, live_herald)
    page.goto(f"/campaigns/{finished_campaign}/activity?limit=10")
    rows = page.locator("table.activity tbody tr")
    expect(rows).to_have_count(10)
    screenshot(page, "campaign-activity")
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(10)
    page.get_by_label("Outcome").select_option("undeliverable")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"outcome=undeliverable"))
    page.get_by_label("Phone or email contains").fill("example.com")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"q=example.com"))


def test_the_detail_page_fits_a_phone(
    page: Page, live_herald: LiveHerald, finished_campaign: int
) -> None:
    signed_in(page, live_herald)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/campaigns/{finished_campaign}")
    expect(page.locator("#live-progress .badge")).to_have_text("Sent")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    screenshot(page, "campaign-detail-phone")


def test_long_names_fit_a_phone(page: Page, live_herald: LiveHerald) -> None:
    signed_in(page, live_herald)
    name = ("Quarterly appointment reminders for the patients of the north-east clinics " * 3)[:200]
    campaign_id = launch_campaign(live_herald, name.strip(), seed=4)
    page.set_viewport_size({"width": 375, "height": 800})
    for section in ("", "/activity", "/logs"):
        page.goto(f"/campaigns/{campaign_id}{section}")
        expect(page.locator("h1.detail-title")).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{section or 'overview'} is {overflow}px too wide"
    screenshot(page, "campaign-logs-phone")
