"""Send rate of Herald's channel clients against the sandbox, next to raw aiohttp.

The sandbox runs in its own process (``herald sandbox``), as it would beside
a real deployment, with a scenario that sets the provider latency. For each
latency, the same number of concurrent senders first drive Herald's client
(payload building, rate limiter, transport, answer classification) and then
plain aiohttp posting the identical request: the ratio is the client's own
overhead. The client's rate limit is lifted so the measurement shows what the
code can do, not the provider's 80 messages/s.

Reproduce (about half a minute)::

    .venv/bin/python -m bench.channel_throughput --write

``--write`` replaces the figures in docs/benchmarks.md between the
``bench:channels`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from herald.channels.base import OutboundMessage, SendAccepted, WhatsAppTemplateContent
from herald.channels.http import create_client_session
from herald.channels.sandbox.scenario import SandboxCredentials
from herald.channels.whatsapp import WhatsAppSettings, build_message_body, create_client

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
START, END = "<!-- bench:channels:start -->", "<!-- bench:channels:end -->"
INTRO = (
    "# Benchmarks\n\n"
    "Measured figures for Herald's moving parts, each with the command that reproduces it.\n"
)
COMMAND = ".venv/bin/python -m bench.channel_throughput --write"
CREDENTIALS = SandboxCredentials()

SendOne = Callable[[int], Awaitable[bool]]


@dataclass(frozen=True)
class Rate:
    per_second: float
    cpu_microseconds: float  # this process's CPU time per send: the sender's own cost


@dataclass(frozen=True)
class Measurement:
    client: str
    latency_ms: int
    in_flight: int
    client_rate: float
    raw_rate: float
    client_cpu_us: float = 0.0
    raw_cpu_us: float = 0.0

    @property
    def ratio(self) -> float:
        return self.client_rate / self.raw_rate if self.raw_rate else 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        assert isinstance(port, int)
        return port


@contextmanager
def sandbox_process(latency_ms: int) -> Iterator[str]:
    """``herald sandbox`` in a child process with ``latency_ms``; yields its base URL."""
    port, smtp_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder) / "scenario.yaml"
        scenario.write_text(f"whatsapp:\n  latency_ms: {latency_ms}\n", encoding="utf-8")
        command = [sys.executable, "-m", "herald", "sandbox", "--port", str(port)]
        command += ["--smtp-port", str(smtp_port), "--scenario", str(scenario)]
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base_url = f"http://127.0.0.1:{port}"
            asyncio.run(_wait_healthy(base_url, child))
            yield base_url
        finally:
            child.terminate()
            child.wait(timeout=10)


async def _wait_healthy(base_url: str, child: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            if child.poll() is not None:
                error = child.stderr.read().decode() if child.stderr else ""
                raise RuntimeError(f"sandbox exited: {error}")
            try:
                async with session.get(base_url + "/_sandbox/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("sandbox did not become healthy")


async def drive(send_one: SendOne, in_flight: int, seconds: float) -> Rate:
    """Successful sends per second with ``in_flight`` senders for ``seconds``."""
    deadline = time.perf_counter() + seconds
    counter = iter(range(1 << 62))
    done = 0

    async def sender() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            if not await send_one(next(counter)):
                raise RuntimeError("a send failed during the benchmark")
            done += 1

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(sender() for _ in range(in_flight)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return Rate(done / elapsed, cpu / max(done, 1) * 1e6)


def _whatsapp_settings(base_url: str, in_flight: int) -> WhatsAppSettings:
    return WhatsAppSettings.model_validate(
        {
            "graph_base_url": base_url,
            "phone_number_id": CREDENTIALS.whatsapp_phone_number_id,
            "waba_id": CREDENTIALS.whatsapp_business_account_id,
            "access_token": CREDENTIALS.whatsapp_access_token,
            "app_secret": CREDENTIALS.whatsapp_app_secret,
            "webhook_verify_token": "bench-verify-token",
            "rate_limit_per_second": 1_000_000,
            "max_in_flight": in_flight,
        }
    )


def _message(number: int) -> OutboundMessage:
    content = WhatsAppTemplateContent("appointment_reminder", "en", ("Ana", "Tuesday 10:00"))
    return OutboundMessage(f"bench:{number}", f"+3460{number % 10_000_000:07d}", content)


async def measure_whatsapp(
    base_url: str, in_flight: int, seconds: float, rounds: int
) -> tuple[Rate, Rate]:
    """Median (client, raw aiohttp) rates over interleaved rounds against one sandbox.

    Interleaving client and raw rounds exposes both to the same background load,
    so the ratio stays meaningful on a shared machine.
    """
    settings = _whatsapp_settings(base_url, in_flight)
    headers = {"Authorization": f"Bearer {CREDENTIALS.whatsapp_access_token}"}
    async with (
        create_client_session(max_connections=in_flight) as session,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as raw,
    ):
        client = create_client(settings, session)

        async def through_client(number: int) -> bool:
            return isinstance(await client.send(_message(number)), SendAccepted)

        async def plain(number: int) -> bool:
            body = build_message_body(_message(number))
            async with raw.post(settings.messages_url, json=body, headers=headers) as response:
                await response.read()
                return response.status == 200

        for warm_up in (through_client, plain):
            await drive(warm_up, in_flight, min(0.5, seconds))
        client_rates, raw_rates = [], []
        for _ in range(rounds):
            client_rates.append(await drive(through_client, in_flight, seconds))
            raw_rates.append(await drive(plain, in_flight, seconds))
    return _median(client_rates), _median(raw_rates)


def _median(rates: list[Rate]) -> Rate:
    return Rate(
        statistics.median(rate.per_second for rate in rates),
        statistics.median(rate.cpu_microseconds for rate in rates),
    )


def run(latencies: list[int], in_flight: int, seconds: float, rounds: int) -> list[Measurement]:
    results = []
    for latency in latencies:
        with sandbox_process(latency) as base_url:
            client, raw = asyncio.run(measure_whatsapp(base_url, in_flight, seconds, rounds))
        results.append(
            Measurement(
                "WhatsApp",
                latency,
                in_flight,
                client.per_second,
                raw.per_second,
                client.cpu_microseconds,
                raw.cpu_microseconds,
            )
        )
    return results


def render(results: list[Measurement], seconds: float, rounds: int) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    load = os.getloadavg()[0]
    machine = (
        f"{os.cpu_count()} CPU cores (1-minute load average {load:.1f} at the end), "
        f"Python {platform.python_version()}, {sys.platform}"
    )
    lines = [
        START,
        "## Channel clients against the sandbox",
        "",
        f"Measured {when} on {machine}; sandbox in a separate process on loopback; "
        f"median of {rounds} interleaved rounds of {seconds:g} s after a warm-up. "
        f"Reproduce with `{COMMAND}`.",
        "",
        "| client | provider latency | in flight | client sends/s | raw aiohttp posts/s "
        "| client / raw | client CPU per send | raw CPU per post |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in results:
        lines.append(
            f"| {m.client} | {m.latency_ms} ms | {m.in_flight} | {m.client_rate:,.0f} "
            f"| {m.raw_rate:,.0f} | {m.ratio:.2f} | {m.client_cpu_us:,.0f} µs "
            f"| {m.raw_cpu_us:,.0f} µs |"
        )
    lines += [
        "",
        "The client's rate limit is lifted for the measurement (the real default is "
        "WhatsApp's 80 messages/s per number). At zero latency both figures are bound by "
        "the CPU shared between this process and the sandbox (and, on a shared machine, "
        "whatever else runs); at 100 ms with 200 in flight the latency ceiling is "
        "2,000 requests/s, so a figure below it is the CPU limit, not the client's. "
        "The CPU columns count only the sending process (the sandbox runs in another), "
        "so they measure what the client adds per message regardless of background load.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write(section: str, doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else INTRO
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + (("\n" + after) if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=1.5, help="duration of each round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure")
    parser.add_argument("--in-flight", type=int, default=200, help="concurrent senders")
    parser.add_argument("--latencies", default="0,100", help="provider latencies in ms")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    latencies = [int(value) for value in args.latencies.split(",")]
    results = run(latencies, args.in_flight, args.seconds, args.rounds)
    section = render(results, args.seconds, args.rounds)
    print(section)
    if args.write:
        write(section)
        print(f"written to {DOC}")


if __name__ == "__main__":
    main()
