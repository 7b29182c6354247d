"""The home page's summary: what needs attention now, in a handful of small queries.

Everything here is bounded whatever the size of the installation: campaign
counts come from one ``GROUP BY`` over the campaigns (never their
contacts), progress from the pre-aggregated campaign counters of the few
campaigns shown, and conversations from one page of the conversation list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.campaign import CampaignStatus
from herald.domain.conversations import ConversationStatus
from herald.services.campaign_views import CampaignView, view_of
from herald.services.conversations import ConversationServices, ConversationView
from herald.services.integrations import IntegrationServices, IntegrationView
from herald.store.campaigns import CampaignRow, completed_counts

DEFAULT_RUNNING_SHOWN = 5
DEFAULT_CONVERSATIONS_SHOWN = 5


@dataclass(frozen=True)
class CampaignProgressLine:
    """A live campaign and how many of its contacts already have an outcome."""

    campaign: CampaignView
    completed: int

    @property
    def percent(self) -> int:
        total = self.campaign.contact_count
        return min(100, self.completed * 100 // total) if total else 0


@dataclass(frozen=True)
class LiveSummary:
    """The running-campaigns card on its own, for refreshing it in place."""

    live: tuple[CampaignProgressLine, ...]
    live_total: int
    campaign_total: int


@dataclass(frozen=True)
class Dashboard:
    status_counts: dict[CampaignStatus, int]  # every status, zeros included
    live: tuple[CampaignProgressLine, ...]  # running and paused, newest launch first
    live_total: int
    needs_human: tuple[ConversationView, ...]  # handed off, latest activity first
    has_more_needing_human: bool
    integrations: tuple[IntegrationView, ...]

    @property
    def campaign_total(self) -> int:
        return sum(self.status_counts.values())

    @property
    def unhealthy_integrations(self) -> tuple[IntegrationView, ...]:
        return tuple(i for i in self.integrations if i.is_active and i.health == "unhealthy")


def build_dashboard(
    session: Session,
    integrations: IntegrationServices,
    clock: Clock,
    *,
    live_shown: int = DEFAULT_RUNNING_SHOWN,
    conversations_shown: int = DEFAULT_CONVERSATIONS_SHOWN,
) -> Dashboard:
    counts = campaign_status_counts(session)
    live = live_campaigns(session, limit=live_shown)
    handed_off = ConversationServices(clock).list(
        session, status=ConversationStatus.HANDED_OFF, limit=conversations_shown
    )
    return Dashboard(
        status_counts=counts,
        live=live,
        live_total=counts[CampaignStatus.RUNNING] + counts[CampaignStatus.PAUSED],
        needs_human=handed_off.items,
        has_more_needing_human=handed_off.next_cursor is not None,
        integrations=tuple(integrations.list(session)),
    )


def live_summary(session: Session, *, live_shown: int = DEFAULT_RUNNING_SHOWN) -> LiveSummary:
    counts = campaign_status_counts(session)
    return LiveSummary(
        live=live_campaigns(session, limit=live_shown),
        live_total=counts[CampaignStatus.RUNNING] + counts[CampaignStatus.PAUSED],
        campaign_total=sum(counts.values()),
    )


def campaign_status_counts(session: Session) -> dict[CampaignStatus, int]:
    query = select(CampaignRow.status, func.count()).group_by(CampaignRow.status)
    found = {CampaignStatus(status): count for status, count in session.execute(query)}
    return {status: found.get(status, 0) for status in CampaignStatus}


def live_campaigns(session: Session, *, limit: int) -> tuple[CampaignProgressLine, ...]:
    """Running and paused campaigns with their completed-contact counts."""
    live = (CampaignStatus.RUNNING.value, CampaignStatus.PAUSED.value)
    rows = list(
        session.scalars(
            select(CampaignRow)
            .where(CampaignRow.status.in_(live))
            .order_by(CampaignRow.launched_at.desc(), CampaignRow.id.desc())
            .limit(limit)
        )
    )
    completed = completed_counts(session, [row.id for row in rows])
    return tuple(CampaignProgressLine(view_of(row), completed.get(row.id, 0)) for row in rows)
