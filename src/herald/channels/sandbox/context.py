"""State shared by every emulated provider inside one sandbox."""

from __future__ import annotations

import asyncio
import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from herald.channels.sandbox.log import SandboxLog
from herald.channels.sandbox.mailbox import SmtpMailbox
from herald.channels.sandbox.scenario import ChannelScenario, Scenario
from herald.channels.sandbox.webhooks import WebhookSender


@dataclass
class SandboxContext:
    scenario: Scenario
    log: SandboxLog
    webhooks: WebhookSender
    rng: random.Random = field(default_factory=random.Random)
    mailbox: SmtpMailbox = field(default_factory=SmtpMailbox)  # the SMTP server's inbox

    @classmethod
    def create(cls, scenario: Scenario, log: SandboxLog, webhooks: WebhookSender) -> SandboxContext:
        return cls(scenario, log, webhooks, random.Random(scenario.seed))

    def now(self) -> datetime:
        return datetime.now(UTC)

    def webhook_url(self, path: str) -> str | None:
        """Herald's URL for ``path`` (``/webhooks/...``), or None when not configured."""
        base = self.scenario.webhook_base_url
        return None if base is None else base.rstrip("/") + path

    def chance(self, probability: float) -> bool:
        return probability > 0 and self.rng.random() < probability

    def pick(self, options: list[str], fallback: str) -> str:
        return self.rng.choice(options) if options else fallback

    def token(self, nbytes: int = 12) -> str:
        """Random provider ids; uses ``secrets`` so they never collide across runs."""
        return secrets.token_hex(nbytes)

    async def simulate_latency(self, channel: ChannelScenario) -> None:
        if channel.latency_ms > 0:
            await asyncio.sleep(channel.latency_ms / 1000)
