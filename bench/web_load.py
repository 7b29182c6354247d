"""Latency of the UI and the API under concurrent users while a large campaign runs.

Herald runs as ``herald serve`` (web and workers in one process) in a child
process, the provider sandbox in another, with provider latency so a large
campaign is still sending while it is measured. Simulated users, bounded in
count and time, share one aiohttp event loop in this process:

- browsers sign in through the login form, keep their session cookie and
  open the main pages (home, campaigns, a campaign, its activity and logs,
  conversations), with a short think time between pages;
- API clients use a bearer key on the main endpoints (campaigns, progress,
  contacts, messages, conversations);
- a few browsers also hold the campaign's live-progress stream (SSE) open.

Phases, in order, each the same length:

1. **idle**: the mix while the campaign is a draft (nothing is sending);
2. **quiet**: the campaign runs, nobody uses the UI: the send rate alone;
3. **loaded**: the campaign runs and the mix runs: latencies and send rate;
4. **quiet again**: the send rate alone after the load, to bracket drift.

Per endpoint: requests, errors (anything but 2xx/3xx, or a failed
connection), p50/p95/p99. Loaded/idle ratios come from the same run.

Reproduce (about three minutes at the default size)::

    .venv/bin/python -m bench.web_load --write
    .venv/bin/python -m bench.web_load --database-url postgresql://... --write

``--write`` replaces the figures in docs/reliability.md between the
``bench:web-load`` markers (one block per database).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import aiohttp

from herald.channels.sandbox.process import ProcessSandbox, free_port
from herald.channels.sandbox.scenario import ChannelScenario, Scenario
from herald.domain.audit import Actor
from herald.domain.channels import IntegrationKind
from herald.domain.ids import IntegrationId
from herald.services.api_keys import ApiKeyServices
from herald.services.audiences import import_audience
from herald.services.campaigns import CampaignServices
from herald.services.container import Herald
from herald.services.demo import demo_csv, demo_journey, integration_settings
from herald.settings import Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
START, END = "<!-- bench:web-load:start -->", "<!-- bench:web-load:end -->"
HEADING = "## API and UI under load"
COMMAND = ".venv/bin/python -m bench.web_load --write"
PASSWORD = "bench-load-password-0123"  # noqa: S105 - throwaway users of a temp database
THINK_SECONDS = (0.05, 0.35)  # pause between one user's requests, uniform
MAX_REQUESTS_PER_USER = 20_000  # a bound on count next to the bound on time
PROVIDER_LATENCY_MS = 250
WARM_UP_SECONDS = 5.0
REQUEST_TIMEOUT_SECONDS = 30.0  # a slower answer counts as an error; keeps phases bounded
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str  # with ``{campaign}`` for the campaign's id
    weight: int


PAGES = (
    Endpoint("page /", "/", 2),
    Endpoint("page /campaigns", "/campaigns", 3),
    Endpoint("page /campaigns/{id}", "/campaigns/{campaign}", 4),
    Endpoint("page /campaigns/{id}/activity", "/campaigns/{campaign}/activity", 2),
    Endpoint("page /campaigns/{id}/logs", "/campaigns/{campaign}/logs", 2),
    Endpoint("page /conversations", "/conversations", 2),
)
API = (
    Endpoint("api campaigns", "/api/v1/campaigns", 2),
    Endpoint("api progress", "/api/v1/campaigns/{campaign}/progress", 4),
    Endpoint("api contacts", "/api/v1/campaigns/{campaign}/contacts?limit=50", 2),
    Endpoint("api messages", "/api/v1/campaigns/{campaign}/messages?limit=50", 2),
    Endpoint("api conversations", "/api/v1/conversations", 1),
)
MIX = PAGES + API
STREAM = "sse progress stream"


@dataclass
class Samples:
    """Latencies (seconds) and error count of one endpoint in one phase."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class PhaseResult:
    seconds: float
    per_endpoint: dict[str, Samples]
    stream_events: int = 0
    sends_per_second: float = 0.0

    @property
    def errors(self) -> int:
        return sum(samples.errors for samples in self.per_endpoint.values())


@dataclass(frozen=True)
class LoadConfig:
    contacts: int = 50_000
    users: int = 20
    seconds: float = 30.0
    database_url: str | None = None
    provider_latency_ms: int = PROVIDER_LATENCY_MS
    think_seconds: tuple[float, float] = THINK_SECONDS
    seed: int = 7
    herald_log: Path | None = None


@dataclass
class Report:
    config: LoadConfig
    database: str
    idle: PhaseResult
    loaded: PhaseResult
    quiet_rates: tuple[float, float]
    load_average: tuple[float, float, float]
    completed_at_end: int
    campaign_status: str


# --- Herald and the sandbox ------------------------------------------------------


def bench_scenario(webhook_base_url: str, latency_ms: int, seed: int) -> Scenario:
    """Every provider answers after ``latency_ms``; some failures drive fallbacks."""
    return Scenario(
        seed=seed,
        webhook_base_url=webhook_base_url,
        whatsapp=ChannelScenario(
            latency_ms=latency_ms,
            delivery_delay_seconds=1,
            read_rate=0.3,
            reply_rate=0.1,
            reply_delay_seconds=2,
            reply_texts=["Yes, confirmed", "Can I move it?"],
            fail_rate=0.1,
            fail_codes=["131049"],
        ),
        sms=ChannelScenario(latency_ms=latency_ms, delivery_delay_seconds=1),
        voice=ChannelScenario(latency_ms=latency_ms, delivery_delay_seconds=1),
    )


@dataclass(frozen=True)
class Prepared:
    campaign_id: int
    api_token: str
    browser_emails: tuple[str, ...]


def prepare(herald: Herald, *, sandbox_url: str, herald_url: str, config: LoadConfig) -> Prepared:
    """Users, an API key, integrations and a draft campaign over ``config.contacts``."""
    actor = Actor.cli("bench")
    browsers = tuple(f"browser{index}@bench.example" for index in range(max(1, config.users)))
    with herald.sessions() as session:
        for email in browsers:
            herald.users.create_user(
                session, email=email, password=PASSWORD, actor=actor, role="admin"
            )
        key = ApiKeyServices(herald.clock).create_key(
            session, name="load", scope="read", actor=actor
        )
        whatsapp_ids: list[IntegrationId] = []
        for name, (kind, settings) in integration_settings(sandbox_url, herald_url).items():
            added = herald.integrations.create(session, name=name, kind=kind, settings=settings)
            if added.kind is IntegrationKind.WHATSAPP:
                whatsapp_ids.append(added.id)
    for integration_id in whatsapp_ids:
        herald.whatsapp_templates.refresh(integration_id)
    imported = import_audience(
        herald.engine,
        io.BytesIO(demo_csv(config.contacts, config.seed).encode()),
        name="Load patients",
        filename="load-patients.csv",
        clock=herald.clock,
        default_region="US",
    )
    with herald.sessions() as session:
        view = CampaignServices(herald.clock).create_draft(
            session,
            name="Appointment reminders (load)",
            audience_id=int(imported.audience.id),
            journey=demo_journey(),
        )
    return Prepared(int(view.id), key.token, browsers)


def messages_sent(herald: Herald, campaign_id: int) -> tuple[int, int, str]:
    """(messages accepted so far, contacts completed, status): the campaign's own counters."""
    with herald.read_sessions() as session:
        progress = CampaignServices(herald.clock).progress(session, campaign_id)
    sent = sum(progress.messages_by_channel.values())
    return sent, progress.completed, progress.campaign.status.value


@contextlib.contextmanager
def herald_process(
    settings_env: dict[str, str], port: int, log_path: Path | None = None
) -> Iterator[str]:
    """``herald serve`` (web and workers) in a child process; yields its URL.

    Its output goes to ``log_path`` when given (to see why a request was
    slow), else to a temporary file shown only if it fails to start.
    """
    env = os.environ | settings_env
    command = [sys.executable, "-m", "herald", "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    opened = log_path.open("w+b") if log_path else tempfile.TemporaryFile()  # noqa: SIM115 - closed by the with below
    with opened as log:
        child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            asyncio.run(_wait_ready(url, child, log))
            yield url
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


async def _wait_ready(url: str, child: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if child.poll() is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise RuntimeError(f"herald serve exited: {output[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise RuntimeError("herald serve did not answer /healthz within 30 s")


# --- Simulated users ---------------------------------------------------------------


async def sign_in(session: aiohttp.ClientSession, base_url: str, email: str) -> None:
    """The login form, as a browser fills it: CSRF token first, then the POST."""
    async with session.get(base_url + "/login") as page:
        found = CSRF.search(await page.text())
    if found is None:
        raise RuntimeError("the login page has no CSRF token")
    form = {"email": email, "password": PASSWORD, "csrf_token": found.group(1), "next": ""}
    async with session.post(base_url + "/login", data=form, allow_redirects=False) as answer:
        if answer.status != 303:
            raise RuntimeError(f"signing in as {email} answered {answer.status}")


async def one_user(
    session: aiohttp.ClientSession,
    base_url: str,
    endpoints: tuple[Endpoint, ...],
    campaign_id: int,
    deadline: float,
    results: dict[str, Samples],
    rng: random.Random,
    think_seconds: tuple[float, float],
) -> None:
    """Visit ``endpoints`` in shuffled rounds, each as often as its weight.

    Rounds rather than independent draws: every endpoint is visited within
    one round, so even a short run covers the whole mix.
    """
    rounds = [endpoint for endpoint in endpoints for _ in range(endpoint.weight)]
    for count in range(MAX_REQUESTS_PER_USER):
        if time.perf_counter() >= deadline:
            return
        if count % len(rounds) == 0:
            rng.shuffle(rounds)
        endpoint = rounds[count % len(rounds)]
        samples = results[endpoint.name]
        started = time.perf_counter()
        try:
            url = base_url + endpoint.path.format(campaign=campaign_id)
            async with session.get(url, allow_redirects=False) as response:
                await response.read()
                ok = response.status < 400
                problem = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            ok, problem = False, repr(error)
        if ok:
            samples.latencies.append(time.perf_counter() - started)
        else:
            samples.errors += 1
            samples.first_error = samples.first_error or problem
        await asyncio.sleep(rng.uniform(*think_seconds))


async def hold_stream(
    session: aiohttp.ClientSession,
    base_url: str,
    campaign_id: int,
    deadline: float,
    samples: Samples,
) -> int:
    """Keep the live-progress stream open until ``deadline``; count its events.

    The latency recorded is the time to the first event, what a user waits
    for the live panel.
    """
    events = 0
    started = time.perf_counter()
    url = f"{base_url}/campaigns/{campaign_id}/progress/stream"
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    try:
        async with session.get(url, timeout=timeout) as response:
            if response.status != 200:
                samples.errors += 1
                samples.first_error = f"HTTP {response.status}"
                return 0
            while (left := deadline - time.perf_counter()) > 0:
                try:
                    line = await asyncio.wait_for(response.content.readline(), left)
                except TimeoutError:
                    break
                if not line:
                    break
                if line.startswith(b"event:"):
                    if events == 0:
                        samples.latencies.append(time.perf_counter() - started)
                    events += 1
    except aiohttp.ClientError as error:
        samples.errors += 1
        samples.first_error = repr(error)
    return events


async def run_mix(
    base_url: str, prepared: Prepared, config: LoadConfig, seconds: float, seed: int
) -> PhaseResult:
    """``config.users`` simulated users (60% browsers, 40% API clients) for ``seconds``."""
    users = config.users
    results = {endpoint.name: Samples() for endpoint in MIX}
    results[STREAM] = Samples()
    browsers = max(1, round(users * 0.6))
    api_clients = max(1, users - browsers)
    streams = max(1, users // 5)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    jar_sessions = [
        # unsafe: keep cookies set by an IP address (127.0.0.1), as browsers do
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=timeout)
        for _ in range(browsers)
    ]
    headers = {"Authorization": f"Bearer {prepared.api_token}"}
    api_session = aiohttp.ClientSession(
        headers=headers, connector=aiohttp.TCPConnector(limit=api_clients), timeout=timeout
    )
    rng = random.Random(seed)
    think = config.think_seconds
    try:
        for index, session in enumerate(jar_sessions):
            await sign_in(session, base_url, prepared.browser_emails[index])
        started = time.perf_counter()
        deadline = started + seconds
        tasks = [
            one_user(s, base_url, PAGES, prepared.campaign_id, deadline, results, _rng(rng), think)
            for s in jar_sessions
        ]
        tasks += [
            one_user(
                api_session,
                base_url,
                API,
                prepared.campaign_id,
                deadline,
                results,
                _rng(rng),
                think,
            )
            for _ in range(api_clients)
        ]
        streaming = [
            hold_stream(
                jar_sessions[i % browsers],
                base_url,
                prepared.campaign_id,
                deadline,
                results[STREAM],
            )
            for i in range(streams)
        ]
        outcome = await asyncio.gather(*tasks, *streaming)
        elapsed = time.perf_counter() - started
    finally:
        for session in [*jar_sessions, api_session]:
            await session.close()
    events = sum(value for value in outcome[len(tasks) :] if isinstance(value, int))
    return PhaseResult(elapsed, results, stream_events=events)


def _rng(parent: random.Random) -> random.Random:
    return random.Random(parent.random())


# --- The run -----------------------------------------------------------------------


def run(config: LoadConfig) -> Report:
    with tempfile.TemporaryDirectory(prefix="herald-web-load-") as folder:
        data_dir = Path(folder)
        database_url = config.database_url or f"sqlite:///{data_dir / 'herald.db'}"
        env = {
            "HERALD_DATA_DIR": str(data_dir),
            "HERALD_DATABASE_URL": database_url,
            # The API's per-key limit protects a shared server; the bench measures latency.
            "HERALD_API_RATE_LIMIT_PER_SECOND": "100000",
            "HERALD_API_RATE_LIMIT_BURST": "100000",
            "HERALD_LOG_LEVEL": "WARNING",
        }
        herald = Herald.create(Settings(data_dir=data_dir, database_url=database_url))
        port = free_port()
        try:
            herald_url = f"http://127.0.0.1:{port}"
            scenario = bench_scenario(herald_url, config.provider_latency_ms, config.seed)
            with ProcessSandbox(scenario) as sandbox:
                prepared = prepare(
                    herald, sandbox_url=sandbox.base_url, herald_url=herald_url, config=config
                )
                with herald_process(env, port, config.herald_log) as url:
                    return asyncio.run(_phases(herald, url, prepared, config))
        finally:
            herald.close()


async def _phases(herald: Herald, url: str, prepared: Prepared, config: LoadConfig) -> Report:
    # Not measured: the first requests compile templates and fill caches.
    await run_mix(url, prepared, config, min(WARM_UP_SECONDS, config.seconds), config.seed)
    idle = await run_mix(url, prepared, config, config.seconds, config.seed)
    with herald.sessions() as session:
        CampaignServices(herald.clock).launch(session, prepared.campaign_id)
    await _wait_sending(herald, prepared.campaign_id)
    quiet_before = await _send_rate(herald, prepared.campaign_id, config.seconds)
    before = await asyncio.to_thread(messages_sent, herald, prepared.campaign_id)
    loaded = await run_mix(url, prepared, config, config.seconds, config.seed + 1)
    after = await asyncio.to_thread(messages_sent, herald, prepared.campaign_id)
    loaded.sends_per_second = (after[0] - before[0]) / loaded.seconds
    quiet_after = await _send_rate(herald, prepared.campaign_id, config.seconds)
    final = await asyncio.to_thread(messages_sent, herald, prepared.campaign_id)
    return Report(
        config=config,
        database=herald.engine.dialect.name,
        idle=idle,
        loaded=loaded,
        quiet_rates=(quiet_before, quiet_after),
        load_average=os.getloadavg(),
        completed_at_end=final[1],
        campaign_status=final[2],
    )


async def _wait_sending(herald: Herald, campaign_id: int) -> None:
    for _ in range(600):
        sent, _, _ = await asyncio.to_thread(messages_sent, herald, campaign_id)
        if sent > 0:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the campaign sent nothing within 60 s of its launch")


async def _send_rate(herald: Herald, campaign_id: int, seconds: float) -> float:
    before, _, _ = await asyncio.to_thread(messages_sent, herald, campaign_id)
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    after, _, _ = await asyncio.to_thread(messages_sent, herald, campaign_id)
    return (after - before) / (time.perf_counter() - started)


# --- The report --------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def _ratio(loaded: float, idle: float) -> str:
    return f"{loaded / idle:.1f}x" if idle > 0 else "–"


def render(report: Report) -> str:
    config = report.config
    browsers = max(1, round(config.users * 0.6))
    lines = [
        f"**{report.database}** — {config.contacts:,} contacts, {config.users} users "
        f"({browsers} browsers, {max(1, config.users - browsers)} API clients, "
        f"{max(1, config.users // 5)} live-progress streams), {config.seconds:.0f} s per phase, "
        f"provider latency {config.provider_latency_ms} ms; measured "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| endpoint | requests idle / loaded | errors | p50 ms | p95 ms | p99 ms "
        "| p99 idle ms | p99 loaded/idle |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, loaded in report.loaded.per_endpoint.items():
        idle = report.idle.per_endpoint[name]
        lines.append(
            f"| {name} | {idle.requests} / {loaded.requests} | {idle.errors + loaded.errors} "
            f"| {_ms(loaded.percentile(0.50))} | {_ms(loaded.percentile(0.95))} "
            f"| **{_ms(loaded.percentile(0.99))}** | {_ms(idle.percentile(0.99))} "
            f"| {_ratio(loaded.percentile(0.99), idle.percentile(0.99))} |"
        )
    failures = [
        f"{name} ({phase}): {samples.errors} × {samples.first_error}"
        for phase, result in (("idle", report.idle), ("loaded", report.loaded))
        for name, samples in result.per_endpoint.items()
        if samples.errors
    ]
    if failures:
        lines += ["", "Errors: " + "; ".join(failures) + "."]
    before, after = report.quiet_rates
    quiet = (before + after) / 2
    one, five, fifteen = report.load_average
    total_loaded = sum(s.requests for s in report.loaded.per_endpoint.values())
    total_idle = sum(s.requests for s in report.idle.per_endpoint.values())
    lines += [
        "",
        f"Requests per second under load: {total_loaded / report.loaded.seconds:.1f} "
        f"(idle: {total_idle / report.idle.seconds:.1f}); "
        f"live-progress events received: {report.loaded.stream_events} "
        f"(the stream's latency is the time to its first event).",
        f"Send rate: {report.loaded.sends_per_second:.1f} messages/s during the load, "
        f"{before:.1f} before and {after:.1f} after it with nobody on the UI "
        f"(during/quiet: {_ratio(report.loaded.sends_per_second, quiet)}). "
        f"At the end {report.completed_at_end:,} of {config.contacts:,} contacts had an "
        f"outcome (campaign {report.campaign_status}).",
        f"Load average at the end (1, 5, 15 min): {one:.2f}, {five:.2f}, {fifteen:.2f} "
        "— the machine is shared and the users, Herald and the sandbox share its cores.",
    ]
    return "\n".join(lines) + "\n"


def write(block: str, database: str, doc: Path = DOC) -> None:
    """Replace this database's block between the markers, keeping the other's."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Reliability\n"
    if START not in text:
        text = text.rstrip("\n") + "\n\n" + _section_intro() + f"{START}\n{END}\n"
    head, rest = text.split(START, 1)
    body, tail = rest.split(END, 1)
    blocks = _blocks(body)
    blocks[database] = block
    joined = "\n".join(blocks[name] for name in sorted(blocks))
    doc.write_text(f"{head}{START}\n{joined}{END}{tail}", encoding="utf-8")


def _blocks(body: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in re.split(r"\n(?=\*\*\w+\*\* — )", body.strip("\n")):
        matched = re.match(r"\*\*(\w+)\*\*", chunk)
        if matched:
            found[matched.group(1)] = chunk.rstrip("\n") + "\n"
    return found


def _section_intro() -> str:
    return (
        f"{HEADING}\n\n"
        "Signed-in browsers and API clients use Herald while a large campaign\n"
        "sends through the provider sandbox (its own process, with provider\n"
        "latency). Each endpoint's latency under load is set against the same mix\n"
        "with no campaign running, and the campaign's send rate with the load\n"
        "against the rate with nobody on the UI. Reproduce (SQLite; add\n"
        "`--database-url` for PostgreSQL):\n\n"
        f"    {COMMAND}\n\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--latency-ms", type=int, default=PROVIDER_LATENCY_MS)
    parser.add_argument("--herald-log", type=Path, help="keep herald serve's output here")
    parser.add_argument("--write", action="store_true", help="update docs/reliability.md")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the Herald and sandbox processes are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.contacts < 1 or args.users < 1 or args.seconds <= 0:
        parser.error("--contacts and --users must be at least 1, --seconds above 0")
    config = LoadConfig(
        contacts=args.contacts,
        users=args.users,
        seconds=args.seconds,
        database_url=args.database_url,
        provider_latency_ms=args.latency_ms,
        herald_log=args.herald_log,
    )
    report = run(config)
    block = render(report)
    print(block)
    if args.write:
        write(block, report.database)


if __name__ == "__main__":
    main()
