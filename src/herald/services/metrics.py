"""The figures behind ``/metrics``, read from the database at scrape time.

Sends, deliveries, failures, fallbacks, replies and outcomes come from the
campaign counters the workers keep (bulk deltas in the batch that caused
them), queue lag from the journeys table, the inbox backlog from the
provider events. Because they are read from the shared database, every
Herald process reports the same cluster-wide figures whichever one is
scraped, and they survive restarts; aggregate them with ``max``, not ``sum``.
Each query uses an index or the small counters table, never a scan of
journeys or messages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herald.domain.campaign import parse_journey
from herald.domain.journey_state import REACHED_STATUSES, SENT_STATUSES
from herald.store.campaigns import CampaignCounterRow, CampaignRow
from herald.store.inbox import ProviderEventRow
from herald.store.integrations import IntegrationRow
from herald.store.journeys import JOURNEYS

_SENT = frozenset(status.value for status in SENT_STATUSES)
_REACHED = frozenset(status.value for status in REACHED_STATUSES)


@dataclass
class Figures:
    """A snapshot of everything ``/metrics`` exports that lives in the database."""

    sent_by_channel: dict[str, int] = field(default_factory=dict)
    failures: dict[tuple[str, str], int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    steps_by_status: dict[str, int] = field(default_factory=dict)
    replies: int = 0
    deliveries: int = 0
    fallback_sends: int = 0
    journeys_due: int = 0
    oldest_due_seconds: float = 0.0
    inbox_unrouted: int = 0
    oldest_unrouted_seconds: float = 0.0
    campaigns_by_status: dict[str, int] = field(default_factory=dict)
    integrations: list[tuple[str, str, str]] = field(default_factory=list)  # name, kind, health


class ChainLengths:
    """How many chain steps (primary and fallbacks) each campaign has, cached:
    a launched campaign's journey does not change."""

    def __init__(self) -> None:
        self._lengths: dict[int, int] = {}

    def of(self, session: Session, campaign_ids: set[int]) -> dict[int, int]:
        missing = campaign_ids - self._lengths.keys()
        if missing:
            rows = session.execute(
                select(CampaignRow.id, CampaignRow.journey).where(CampaignRow.id.in_(missing))
            )
            for campaign_id, journey in rows:
                self._lengths[campaign_id] = len(parse_journey(journey).chain) if journey else 0
        return {cid: self._lengths[cid] for cid in campaign_ids if cid in self._lengths}


def collect_figures(session: Session, now: datetime, chains: ChainLengths) -> Figures:
    figures = Figures()
    _add_counters(session, figures, chains)
    _add_queue(session, figures, now)
    _add_inbox(session, figures, now)
    figures.campaigns_by_status = {
        status: count
        for status, count in session.execute(
            select(CampaignRow.status, func.count()).group_by(CampaignRow.status)
        )
    }
    figures.integrations = [
        (name, kind, health)
        for name, kind, health in session.execute(
            select(IntegrationRow.name, IntegrationRow.kind, IntegrationRow.health).order_by(
                IntegrationRow.name
            )
        )
    ]
    return figures


def _add_counters(session: Session, figures: Figures, chains: ChainLengths) -> None:
    rows = session.execute(
        select(CampaignCounterRow.campaign_id, CampaignCounterRow.name, CampaignCounterRow.value)
    ).all()
    lengths = chains.of(session, {row.campaign_id for row in rows if row.name.startswith("step:")})
    sent: defaultdict[str, int] = defaultdict(int)
    failures: defaultdict[tuple[str, str], int] = defaultdict(int)
    outcomes: defaultdict[str, int] = defaultdict(int)
    steps: defaultdict[str, int] = defaultdict(int)
    for campaign_id, name, value in rows:
        kind, _, rest = name.partition(":")
        if kind == "sent":
            sent[rest] += value
        elif kind == "error":
            provider, _, code = rest.partition(":")
            failures[(provider, code)] += value
        elif kind == "outcome":
            outcomes[rest] += value
        elif kind == "replies":
            figures.replies += value
        elif kind == "step":
            index, _, status = rest.partition(":")
            steps[status] += value
            if status in _REACHED:
                figures.deliveries += value
            if status in _SENT and 0 < int(index) < lengths.get(campaign_id, 0):
                figures.fallback_sends += value
    figures.sent_by_channel = dict(sent)
    figures.failures = dict(failures)
    figures.outcomes = dict(outcomes)
    figures.steps_by_status = dict(steps)


def _add_queue(session: Session, figures: Figures, now: datetime) -> None:
    """Journeys waiting for a worker: due, and not held under a live lease
    (a claim moves ``due_at`` to the end of the lease)."""
    count, oldest = session.execute(
        select(func.count(), func.min(JOURNEYS.c.due_at)).where(JOURNEYS.c.due_at <= now)
    ).one()
    figures.journeys_due = int(count)
    figures.oldest_due_seconds = _age(oldest, now)


def _add_inbox(session: Session, figures: Figures, now: datetime) -> None:
    count, oldest = session.execute(
        select(func.count(), func.min(ProviderEventRow.received_at)).where(
            ProviderEventRow.routed_at.is_(None)
        )
    ).one()
    figures.inbox_unrouted = int(count)
    figures.oldest_unrouted_seconds = _age(oldest, now)


def _age(moment: datetime | None, now: datetime) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment is not None else 0.0
