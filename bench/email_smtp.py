"""Send rate of the SMTP client against the sandbox's SMTP server on loopback.

    .venv/bin/python bench/email_smtp.py --messages 2000 --pool 8 --latency-ms 0

Prints messages per second for the pooled client (sessions reused, at most
``--pool`` in flight). Client and server share the machine's cores, so the
figure is a floor for the client, not a promise about a real relay.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time

from herald.channels.base import EmailContent, OutboundMessage, SendAccepted
from herald.channels.email import EmailSettings, create_client
from herald.channels.email.pool import MESSAGES_PER_CONNECTION
from herald.channels.sandbox.scenario import ChannelScenario, SandboxCredentials, Scenario
from herald.channels.sandbox.server import SandboxServer


def _settings(port: int, pool: int) -> EmailSettings:
    credentials = SandboxCredentials()
    return EmailSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        username=credentials.smtp_username,
        password=credentials.smtp_password,
        from_address="orders@mail.example.test",
        bounce_address="bounce@mail.example.test",
        reply_to_address="reply@inbound.example.test",
        public_base_url="https://herald.example.test",
        unsubscribe_secret=secrets.token_hex(16),
        rate_limit_per_second=10_000,
        pool_size=pool,
    )


async def _run(messages: int, pool: int, latency_ms: float) -> None:
    scenario = Scenario(email=ChannelScenario(latency_ms=latency_ms))
    async with SandboxServer(scenario) as sandbox:
        client = create_client(_settings(sandbox.ports["smtp"], pool))
        content = EmailContent(subject="Benchmark", text="Hello " * 40, html="<p>Hello</p>")
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                client.send(OutboundMessage(f"b{i}:j1:s0", f"p{i}@example.org", content))
                for i in range(messages)
            )
        )
        elapsed = time.perf_counter() - started
        await client.aclose()
        accepted = sum(isinstance(r, SendAccepted) for r in results)
        assert sandbox.context is not None
        sessions = sandbox.context.mailbox.sessions_opened
    print(
        f"pool={pool} latency={latency_ms}ms: {accepted}/{messages} accepted in {elapsed:.2f} s "
        f"= {accepted / elapsed:.0f} msg/s over {sessions} SMTP sessions "
        f"(at most {MESSAGES_PER_CONNECTION} messages each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(_run(args.messages, args.pool, args.latency_ms))


if __name__ == "__main__":
    main()
