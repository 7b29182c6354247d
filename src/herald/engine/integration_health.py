"""An integration's health as its sends see it, for the user and for readiness.

After each round of sends the journey worker sums up, per integration, how
the provider answered. A round in which the provider accepted nothing and
every answer said "unavailable" (5xx, refused connections, timeouts, a
broken account) marks the integration ``unhealthy``; a round of nothing but
"too fast" (HTTP 429 and the providers' throttling codes) marks it
``degraded``; the first accepted send marks it ``healthy`` again. The reason
names the code and how many sends it hit, so the integrations page and
``/readyz`` say why sending slowed down. Contacts are not failed for any of
this: their sends are retried with backoff (see :mod:`herald.engine.results`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from herald.channels.base import (
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
)
from herald.engine.results import THROTTLE_CODES, UNREACHABLE_CODES
from herald.store.integrations import IntegrationRow

logger = logging.getLogger(__name__)

HEALTHY = "healthy"
DEGRADED = "degraded"
UNHEALTHY = "unhealthy"
# Codes that mean "slow down", as opposed to "cannot serve you at all".
_SLOW_DOWN_CODES = THROTTLE_CODES - UNREACHABLE_CODES


@dataclass
class RoundHealth:
    """How one integration's provider answered in one round of sends."""

    accepted: int = 0
    answered: int = 0  # a definite answer about the message itself (e.g. invalid number)
    throttled: Counter[str] = field(default_factory=Counter)
    unavailable: Counter[str] = field(default_factory=Counter)

    def add(self, result: SendResult) -> None:
        match result:
            case SendAccepted():
                self.accepted += 1
            case SendTerminal(failure=failure, integration_fault=True):
                self.unavailable[f"{failure.code} ({failure.title})"] += 1
            case SendRetryable(failure=failure) if _is_slow_down(failure.code, failure.http_status):
                self.throttled[_label(failure.code, failure.http_status)] += 1
            case SendRetryable(failure=failure) if _is_unavailable(
                failure.http_status, failure.code
            ):
                self.unavailable[_label(failure.code, failure.http_status)] += 1
            case SendUnknown(reason=reason):
                self.unavailable["no answer: " + reason[:120]] += 1
            case _:
                self.answered += 1

    def verdict(self) -> tuple[str, str | None] | None:
        """(health, reason) this round shows, or None when it shows nothing new."""
        if self.accepted or self.answered:
            return HEALTHY, None
        if self.unavailable:
            return UNHEALTHY, _reason("provider unavailable", self.unavailable)
        if self.throttled:
            return DEGRADED, _reason("provider is throttling", self.throttled)
        return None


def summarise(outcomes: Iterable[tuple[int, SendResult]]) -> dict[int, RoundHealth]:
    """Per integration id, what a round of (integration id, result) pairs showed."""
    rounds: dict[int, RoundHealth] = {}
    for integration_id, result in outcomes:
        rounds.setdefault(integration_id, RoundHealth()).add(result)
    return rounds


def record_round(session: Session, rounds: dict[int, RoundHealth], now: datetime) -> None:
    """Write what changed: a healthy round only touches an integration marked otherwise."""
    for integration_id, round_health in rounds.items():
        verdict = round_health.verdict()
        if verdict is None:
            continue
        health, reason = verdict
        statement = (
            update(IntegrationRow)
            .where(IntegrationRow.id == integration_id)
            .values(health=health, health_reason=reason, health_checked_at=now)
        )
        if health == HEALTHY:
            statement = statement.where(IntegrationRow.health.in_([DEGRADED, UNHEALTHY]))
        changed = session.execute(statement).rowcount  # type: ignore[attr-defined]
        if changed and health != HEALTHY:
            logger.warning(
                "integration %s is %s: %s",
                integration_id,
                health,
                reason,
                extra={"integration_id": integration_id},
            )
        elif changed:
            logger.info(
                "integration %s is healthy again",
                integration_id,
                extra={"integration_id": integration_id},
            )


def _is_slow_down(code: str, http_status: int | None) -> bool:
    return code in _SLOW_DOWN_CODES or http_status == 429


def _is_unavailable(http_status: int | None, code: str) -> bool:
    """5xx, or a transport failure (no HTTP status at all: nothing answered)."""
    return http_status is None or http_status >= 500 or code in UNREACHABLE_CODES


def _label(code: str, http_status: int | None) -> str:
    return f"HTTP {http_status} ({code})" if http_status else code


def _reason(what: str, counts: Counter[str]) -> str:
    parts = ", ".join(f"{label} × {count}" for label, count in counts.most_common(3))
    total = sum(counts.values())
    return f"{what}: {parts} in the last {total} sends; sends are retried with backoff"
