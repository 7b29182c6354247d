"""Send rate of the Infobip SMS and Twilio Voice clients against the sandbox.

The sandbox (with a stand-in for Herald's webhook endpoints answering 200)
runs in its own process, as a real provider would; this process runs only
Herald's real clients over loopback HTTP with a given number of sends in
flight. It prints sends per second per provider and the client's own CPU
time per send. Every send must be accepted exactly once (checked against the
sandbox's log), so the figures are for correct work only.

    .venv/bin/python bench/sms_voice_send_rate.py --count 4000 --in-flight 200 --latency-ms 100
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from aiohttp import web

from herald.channels.base import (
    ChannelClient,
    OutboundMessage,
    SendAccepted,
    SmsContent,
    VoiceContent,
)
from herald.channels.http import create_client_session
from herald.channels.infobip import InfobipSettings
from herald.channels.infobip import create_client as create_infobip
from herald.channels.sandbox.scenario import ChannelScenario, Scenario
from herald.channels.sandbox.server import SandboxServer
from herald.channels.twilio import TwilioSettings
from herald.channels.twilio import create_client as create_twilio

MessageFactory = Callable[[int], OutboundMessage]
CREDENTIALS = Scenario().credentials


def _sms(n: int) -> OutboundMessage:
    return OutboundMessage(f"bench:sms:{n}", f"+346{n:08d}", SmsContent(f"Hello #{n}"))


def _call(n: int) -> OutboundMessage:
    return OutboundMessage(f"bench:voice:{n}", f"+346{n:08d}", VoiceContent(f"Hello #{n}"))


# --- the provider side, in a child process --------------------------------------------


async def _webhook_sink() -> tuple[web.AppRunner, str]:
    """Herald's webhook endpoints reduced to "200 OK", so callbacks cost what they cost."""

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def _provide(latency_ms: float, out: Queue[Any], stop: Event) -> None:
    sink, sink_url = await _webhook_sink()
    channel = ChannelScenario(latency_ms=latency_ms, delivery_delay_seconds=3600)
    scenario = Scenario(seed=1, webhook_base_url=sink_url, sms=channel, voice=channel)
    async with SandboxServer(scenario) as sandbox:
        out.put((sandbox.base_url, sink_url))
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        out.put((len(sandbox.log.sends()), len(sandbox.log.duplicate_keys())))
    await sink.cleanup()


def _provider_process(latency_ms: float, out: Queue[Any], stop: Event) -> None:
    asyncio.run(_provide(latency_ms, out, stop))


# --- the client side ------------------------------------------------------------------


async def _drive(
    client: ChannelClient, make: MessageFactory, count: int, in_flight: int
) -> tuple[float, float]:
    """Sends per second, and this process's CPU microseconds per send.

    The CPU figure is the client's own cost, independent of how fast the
    sandbox answers: one core divided by it is the client's ceiling.
    """
    slots = asyncio.Semaphore(in_flight)

    async def one(n: int) -> None:
        async with slots:
            result = await client.send(make(n))
            if not isinstance(result, SendAccepted):
                raise RuntimeError(f"send {n} not accepted: {result}")

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(n) for n in range(count)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return count / elapsed, cpu / count * 1e6


async def _send_all(
    count: int, in_flight: int, sandbox_url: str, sink_url: str
) -> dict[str, tuple[float, float]]:
    async with create_client_session() as session:
        infobip_settings = InfobipSettings(
            base_url=sandbox_url,
            api_key=CREDENTIALS.infobip_api_key,
            sender="HeraldCo",
            webhook_secret=CREDENTIALS.infobip_webhook_secret,
        )
        twilio_settings = TwilioSettings(
            api_base_url=sandbox_url,
            account_sid=CREDENTIALS.twilio_account_sid,
            auth_token=CREDENTIALS.twilio_auth_token,
            caller_id=CREDENTIALS.twilio_number,
            public_base_url=sink_url,
        )
        infobip = create_infobip(infobip_settings, session, max_in_flight=in_flight)
        twilio = create_twilio(twilio_settings, session, max_in_flight=in_flight)
        return {
            "infobip_sms": await _drive(infobip, _sms, count, in_flight),
            "twilio_voice": await _drive(twilio, _call, count, in_flight),
        }


def run(count: int, in_flight: int, latency_ms: float) -> dict[str, tuple[float, float]]:
    spawn = multiprocessing.get_context("spawn")
    out: Queue[Any] = spawn.Queue()
    stop = spawn.Event()
    provider = spawn.Process(target=_provider_process, args=(latency_ms, out, stop))
    provider.start()
    try:
        sandbox_url, sink_url = out.get(timeout=60)
        rates = asyncio.run(_send_all(count, in_flight, sandbox_url, sink_url))
    finally:
        stop.set()
    accepted, duplicates = out.get(timeout=60)
    provider.join(timeout=60)
    if accepted != 2 * count or duplicates:
        raise RuntimeError(f"sandbox accepted {accepted} sends ({duplicates} duplicate keys)")
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    rates = run(args.count, args.in_flight, args.latency_ms)
    for provider, (rate, cpu_us) in rates.items():
        print(
            f"{provider}: {rate:,.0f} sends/s, client CPU {cpu_us:,.0f} µs/send "
            f"({args.count} sends, {args.in_flight} in flight, {args.latency_ms:g} ms latency)"
        )


if __name__ == "__main__":
    main()
