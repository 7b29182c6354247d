"""The sandbox's own record of what it accepted and what it sent back.

This log is the independent witness in Herald's exactly-once tests: a
contact that received the same journey step twice shows up as two accepted
sends with the same correlation key.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class AcceptedSend:
    provider: str
    to: str
    correlation_key: str | None
    provider_message_id: str
    accepted_at: datetime


class SandboxLog:
    """Thread-safe, append-only; optionally mirrored to a JSON-lines file."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._sends: list[AcceptedSend] = []
        self._path = path
        self.webhooks_delivered = 0
        self.webhooks_failed = 0
        self.requests_rejected = 0

    def record_send(self, send: AcceptedSend) -> None:
        with self._lock:
            self._sends.append(send)
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as handle:
                    row = asdict(send) | {"accepted_at": send.accepted_at.isoformat()}
                    handle.write(json.dumps(row) + "\n")

    def sends(self) -> list[AcceptedSend]:
        with self._lock:
            return list(self._sends)

    def duplicate_keys(self) -> dict[str, int]:
        """Correlation keys accepted more than once, with their counts."""
        counts = Counter(s.correlation_key for s in self.sends() if s.correlation_key)
        return {key: count for key, count in counts.items() if count > 1}

    def summary(self) -> dict[str, object]:
        sends = self.sends()
        return {
            "accepted": len(sends),
            "by_provider": dict(Counter(s.provider for s in sends)),
            "duplicate_keys": len(self.duplicate_keys()),
            "requests_rejected": self.requests_rejected,
            "webhooks_delivered": self.webhooks_delivered,
            "webhooks_failed": self.webhooks_failed,
        }
