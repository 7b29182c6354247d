"""Campaigns launched on the live Herald, and a signed-in browser, for the UI tests."""

from __future__ import annotations

import io
import time

from playwright.sync_api import Page

from herald.domain.campaign import FINAL_STATUSES
from herald.services.audiences import import_audience
from herald.services.demo import demo_csv, demo_journey
from tests.e2e.conftest import LiveHerald, sign_in

CONTACTS = 30
# Compressed time: the journeys (windows of a day, a two-day follow-up) take seconds.
FINISH_SECONDS = 120
BROWSER_TIMEOUT_MS = 30_000


def launch_campaign(live: LiveHerald, name: str, *, seed: int) -> int:
    """A reminder campaign (WhatsApp → SMS → voice, follow-up) launched at once."""
    herald = live.herald
    imported = import_audience(
        herald.engine,
        io.BytesIO(demo_csv(CONTACTS, seed).encode()),
        name=name,
        filename="patients.csv",
        clock=herald.clock,
        default_region="US",
    )
    with herald.sessions() as session:
        draft = herald.campaigns.create_draft(
            session,
            name=name,
            extra_tags=["e2e"],
            audience_id=int(imported.audience.id),
            journey=demo_journey(),
        )
        return int(herald.campaigns.launch(session, draft.id).id)


def wait_until_final(live: LiveHerald, campaign_id: int) -> str:
    deadline = time.monotonic() + FINISH_SECONDS
    while time.monotonic() < deadline:
        with live.herald.sessions() as session:
            status = live.herald.campaigns.get(session, campaign_id).status
        if status in FINAL_STATUSES:
            return status.value
        time.sleep(0.5)
    raise AssertionError(f"campaign {campaign_id} did not finish in {FINISH_SECONDS} s")


def signed_in(page: Page, live: LiveHerald) -> None:
    """Sign in, with waits long enough for a machine busy running the campaign."""
    page.set_default_timeout(BROWSER_TIMEOUT_MS)
    sign_in(page, live)
