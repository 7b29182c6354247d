"""A live Herald, the provider sandbox and a real browser, for the UI tests.

The browser is the system Chromium (Debian's ``chromium`` package) driven by
Playwright; nothing is downloaded. Without a Chromium the tests are skipped
with a message saying how to enable them; ``HERALD_TEST_REQUIRE_BROWSER=1``
(set by ``.ci/run``) turns that into a failure. Screenshots of every page a
test visits are saved under ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from herald.channels.sandbox.process import ProcessSandbox
from herald.channels.sandbox.scenario import Scenario, ScriptedRule
from herald.cli.server import running_herald
from herald.clock import CompressedClock
from herald.services.container import Herald
from herald.services.demo import DAY_SECONDS, demo_scenario, integration_settings
from herald.settings import Settings
from herald.testing import fast_passwords

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
SECONDS_PER_DAY = 2.0
HOWTO = (
    "browser tests skipped: no Chromium found; install Debian's package "
    "(apt-get install chromium) or point HERALD_CHROMIUM at a Chromium binary"
)


def _chromium() -> str | None:
    for candidate in (os.environ.get("HERALD_CHROMIUM"), "chromium", "chromium-browser"):
        if not candidate:
            continue
        found = shutil.which(candidate) or (candidate if Path(candidate).exists() else None)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = _chromium()
    if path is None:
        if os.environ.get("HERALD_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail("HERALD_TEST_REQUIRE_BROWSER=1 but no Chromium was found")
        pytest.skip(HOWTO)
    return path


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Browser]:
    """Package-scoped on purpose: Playwright's sync API keeps an event loop
    running on the main thread while it is open, which would break every later
    test that calls ``asyncio.run``; it must be closed before the suite moves on.
    """
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@dataclass
class LiveHerald:
    """Herald serving on loopback with its workers, beside the provider sandbox."""

    url: str
    herald: Herald
    sandbox: ProcessSandbox
    admin_email: str = ADMIN_EMAIL
    admin_password: str = ADMIN_PASSWORD
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)


def _serve(herald: Herald, ready: Future[str], stop: threading.Event) -> None:
    async def main() -> None:
        async with running_herald(herald, host="127.0.0.1", port=0) as running:
            ready.set_result(running.url)
            while not stop.is_set():
                await asyncio.sleep(0.05)

    asyncio.run(main())


@pytest.fixture(scope="module")
def live_herald(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHerald]:
    directory = tmp_path_factory.mktemp("live-herald")
    speedup = DAY_SECONDS / SECONDS_PER_DAY  # a day of journey time lasts two seconds
    settings = Settings(
        data_dir=directory,
        database_url=f"sqlite:///{directory / 'herald.db'}",
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,  # type: ignore[arg-type]
    )
    herald = Herald.create(settings, CompressedClock(speedup), passwords=fast_passwords())
    stop = threading.Event()
    ready: Future[str] = Future()
    thread = threading.Thread(target=_serve, args=(herald, ready, stop), daemon=True)
    thread.start()
    url = ready.result(timeout=60)
    scenario = _with_unreachable_whatsapp(demo_scenario(url, speedup=speedup, seed=11))
    with ProcessSandbox(scenario) as sandbox:
        with herald.sessions() as session:
            for name, (kind, values) in integration_settings(sandbox.base_url, url).items():
                herald.integrations.create(session, name=name, kind=kind, settings=values)
        yield LiveHerald(url, herald, sandbox, _stop=stop)
    stop.set()
    thread.join(timeout=30)
    herald.close()


def _with_unreachable_whatsapp(scenario: Scenario) -> Scenario:
    """Kofi Mensah's Ghanaian number in the messy sample is one WhatsApp cannot
    reach (131026), so a campaign built from that sample always has a failure
    to look at, whatever the random draws."""
    rules = [ScriptedRule(match="+233", fail="131026"), *scenario.whatsapp.rules]
    whatsapp = scenario.whatsapp.model_copy(update={"rules": rules})
    return scenario.model_copy(update={"whatsapp": whatsapp})


@pytest.fixture
def page(browser: Browser, live_herald: LiveHerald) -> Iterator[Page]:
    """A fresh browser context on the live Herald (not signed in)."""
    context = browser.new_context(base_url=live_herald.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in(page: Page, live: LiveHerald) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(live.admin_email)
    page.get_by_label("Password").fill(live.admin_password)
    page.get_by_role("button", name=re.compile("sign in|log in", re.I)).click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
