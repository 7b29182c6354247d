"""The whole flow a user follows, in one browser session, against the sandbox.

Sign in, upload the messy spreadsheet, see and remove the flagged rows, build
WhatsApp → SMS fallback → follow-up, preview, schedule a local start, watch
the progress reach Sent without reloading, open the log entry of a contact
WhatsApp could not reach, filter conversations by the campaign's tag, and
download the audience. Each page is saved as a screenshot.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from herald.domain.campaign import CampaignStatus
from tests.e2e.conftest import LiveHerald, screenshot, sign_in
from tests.e2e.test_builder import (
    compose_fallback,
    compose_follow_up,
    compose_primary,
    create_draft,
    drop_sample,
    remove_flagged_rows,
    set_up,
)
from tests.support.live_campaigns import FINISH_SECONDS

pytestmark = pytest.mark.e2e

TAG = "clinic-reminders-browser"
ZONE = ZoneInfo("Europe/Berlin")
# Herald's clock runs a day every two seconds: a start five days ahead leaves
# about ten seconds of real time to submit the form before it comes due.
START_AHEAD = timedelta(days=5)


def test_from_spreadsheet_to_sent_campaign(page: Page, live_herald: LiveHerald) -> None:
    herald = live_herald.herald
    sign_in(page, live_herald)
    campaign_id = create_draft(page)
    set_up(page)
    drop_sample(page)
    remove_flagged_rows(page)

    page.get_by_role("button", name="Next: message journey →").click()
    page.wait_for_url(re.compile(r"/journey"))
    compose_primary(page)
    compose_fallback(page)
    compose_follow_up(page)
    screenshot(page, "flow-2-journey")
    page.get_by_role("navigation", name="Builder steps").get_by_role("link", name="Review").click()
    page.wait_for_url(re.compile(r"/review$"))
    expect(page.get_by_text("Every check passed.")).to_be_visible()

    page.get_by_label("Schedule for later").check()
    start = (herald.clock.now() + START_AHEAD).astimezone(ZONE)
    page.get_by_label("Date", exact=True).fill(f"{start:%Y-%m-%d}")
    page.get_by_label("Time", exact=True).fill(f"{start:%H:%M}")
    page.get_by_label("Timezone", exact=True).fill("Europe/Berlin")
    screenshot(page, "flow-3-review-scheduled")
    page.get_by_role("button", name="Review & start").click()
    page.wait_for_url(re.compile(rf"/campaigns/{campaign_id}$"))
    with herald.sessions() as db:
        campaign = herald.campaigns.get(db, campaign_id)
    assert campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
    assert campaign.schedule_timezone == "Europe/Berlin"

    # The scheduler starts it; the page follows without a reload.
    page.evaluate("window.heraldNoReload = 'still here'")
    expect(page.locator("#live-progress .badge")).to_have_text(
        "Sent", timeout=FINISH_SECONDS * 1000
    )
    assert page.evaluate("window.heraldNoReload") == "still here"
    expect(page.locator('#live-progress [data-outcome="in_progress"]')).to_have_text("0")
    screenshot(page, "flow-4-sent")

    # Kofi Mensah's number is one WhatsApp cannot reach in the sandbox (131026).
    page.get_by_role("link", name="Message logs").click()
    page.get_by_label("Error code").select_option("131026")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("table.logs tbody tr").first
    expect(row).to_be_visible()
    row.get_by_role("link", name=re.compile(r"^#\d+$")).click()
    expect(page.get_by_role("heading", name=re.compile("131026"))).to_be_visible()
    expect(page.get_by_text("The number is not registered on WhatsApp.")).to_be_visible()
    expect(page.get_by_text("+233302664000").first).to_be_visible()
    screenshot(page, "flow-5-failed-log-entry")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Conversations").click()
    page.get_by_label("Tag", exact=True).fill(TAG)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"tag={TAG}"))
    rows = page.locator("table.conversation-list tbody tr")
    expect(rows.first).to_be_visible()
    for index in range(rows.count()):
        expect(rows.nth(index).get_by_text(TAG, exact=True)).to_be_visible()
    screenshot(page, "flow-6-conversations")

    page.goto(f"/campaigns/{campaign_id}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download audience CSV").click()
    path = download_info.value.path()
    assert path is not None
    rows_read = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert len(rows_read) == 3, rows_read  # the flagged rows were removed before launch
    assert {"'+12025550101", "'+233302664000"} <= {row["phone"] for row in rows_read}
