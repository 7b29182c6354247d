"""A running campaign as people watch it: outcomes, funnel, errors, sends over time.

Everything here is read from the campaign row and its counters (one small
query each), never from the journeys table, so a progress view refreshed
every second costs the same for ten contacts or a million. The counters are
kept by the engine as it goes (see :mod:`herald.domain.progress_counters`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.campaign import FINAL_STATUSES
from herald.domain.channels import CHANNEL_OF_KIND, Channel, IntegrationKind
from herald.domain.error_catalog import ErrorCatalog, ErrorEntry, build_catalog
from herald.domain.journey_state import Outcome
from herald.domain.progress_counters import (
    FUNNEL_DELIVERED,
    FUNNEL_SENT,
    LEFT_STATUSES,
    SendTimeline,
    bucket_sends,
    read_timeline,
)
from herald.errors import ValidationError
from herald.services.campaign_listing import draft_audience_sizes
from herald.services.campaign_views import CampaignView, get_row, view_of
from herald.services.campaigns import CampaignServices
from herald.store.campaigns import read_counters

KIND_OF_CHANNEL: dict[Channel, IntegrationKind] = {
    channel: kind for kind, channel in CHANNEL_OF_KIND.items()
}
COPY_PREFIX = "Copy of "
MAX_NAME_LENGTH = 200


@cache
def error_catalog() -> ErrorCatalog:
    return build_catalog()


def explain_error(provider: IntegrationKind, code: str) -> ErrorEntry:
    """The catalog's entry for a provider code (an honest placeholder when unknown)."""
    return error_catalog().describe(provider, code)


def explain_channel_error(channel: str, code: str) -> ErrorEntry | None:
    """The entry for a code recorded on a message of ``channel``; None for an unknown channel."""
    try:
        kind = KIND_OF_CHANNEL[Channel(channel)]
    except ValueError:
        return None
    return explain_error(kind, code)


@dataclass(frozen=True)
class Funnel:
    """Contacts at each stage (people, not messages), and the extra messages sent.

    ``replied`` can exceed ``delivered``: a reply may come before the delivery
    status, and some channels (email) report none.
    """

    audience: int
    sent: int
    delivered: int
    replied: int
    fallbacks: int  # fallback messages that left Herald
    follow_ups: int  # follow-up messages that left Herald


@dataclass(frozen=True)
class ErrorCount:
    provider: IntegrationKind
    code: str
    count: int
    entry: ErrorEntry


@dataclass(frozen=True)
class CampaignSnapshot:
    campaign: CampaignView
    outcomes: dict[Outcome, int]  # every outcome, in the documented order
    funnel: Funnel
    errors: tuple[ErrorCount, ...]  # most frequent first
    timeline: SendTimeline
    # Contacts the campaign has or will have: fixed at launch, the audience's
    # current valid contacts before (a scheduled campaign has no count yet).
    audience_size: int = 0

    @property
    def completed(self) -> int:
        return sum(self.outcomes.values())

    @property
    def in_progress(self) -> int:
        return max(self.campaign.contact_count - self.completed, 0)

    @property
    def is_final(self) -> bool:
        return self.campaign.status in FINAL_STATUSES

    @property
    def percent_complete(self) -> int:
        contacts = self.campaign.contact_count
        return 100 if contacts == 0 else min(100, self.completed * 100 // contacts)


def snapshot(session: Session, campaign_id: int) -> CampaignSnapshot:
    """The campaign and its progress (NotFoundError when there is no such campaign)."""
    row = get_row(session, campaign_id)
    size = draft_audience_sizes(session, [row]).get(row.id, row.contact_count)
    return snapshot_of(view_of(row), read_counters(session, campaign_id), audience_size=size)


def snapshot_of(
    campaign: CampaignView, counters: Mapping[str, int], *, audience_size: int | None = None
) -> CampaignSnapshot:
    outcomes = {outcome: counters.get(f"outcome:{outcome.value}", 0) for outcome in Outcome}
    return CampaignSnapshot(
        audience_size=campaign.contact_count if audience_size is None else audience_size,
        campaign=campaign,
        outcomes=outcomes,
        funnel=_funnel(campaign, counters, outcomes),
        errors=_errors(counters),
        timeline=bucket_sends(read_timeline(counters)),
    )


def _funnel(
    campaign: CampaignView, counters: Mapping[str, int], outcomes: Mapping[Outcome, int]
) -> Funnel:
    chain, follow_up = _step_layout(campaign)
    return Funnel(
        audience=campaign.contact_count,
        sent=counters.get(FUNNEL_SENT, 0),
        delivered=counters.get(FUNNEL_DELIVERED, 0),
        replied=outcomes[Outcome.REPLIED],
        fallbacks=sum(_left(counters, step) for step in range(1, chain)),
        follow_ups=0 if follow_up is None else _left(counters, follow_up),
    )


def _step_layout(campaign: CampaignView) -> tuple[int, int | None]:
    """The number of chain steps and the follow-up's step index, from the stored journey."""
    journey = campaign.journey or {}
    fallbacks = journey.get("fallbacks") or []
    chain = 1 + (len(fallbacks) if isinstance(fallbacks, list) else 0)
    return chain, (chain if journey.get("follow_up") else None)


def _left(counters: Mapping[str, int], step: int) -> int:
    return sum(counters.get(f"step:{step}:{status.value}", 0) for status in LEFT_STATUSES)


def _prefixed(counters: Mapping[str, int], prefix: str) -> dict[str, int]:
    return {
        name.removeprefix(prefix): value
        for name, value in sorted(counters.items())
        if name.startswith(prefix) and value
    }


def _errors(counters: Mapping[str, int]) -> tuple[ErrorCount, ...]:
    found = []
    for key, count in _prefixed(counters, "error:").items():
        provider, _, code = key.partition(":")
        try:
            kind = IntegrationKind(provider)
        except ValueError:
            continue
        found.append(ErrorCount(kind, code, count, explain_error(kind, code)))
    return tuple(sorted(found, key=lambda error: (-error.count, error.provider, error.code)))


def copy_into_new_campaign(session: Session, clock: Clock, campaign_id: int) -> CampaignView:
    """A new draft sending to a copy of this campaign's audience.

    It keeps the region and the extra tags (its own tag is derived from its
    name, as for any new campaign) and starts without a journey or schedule:
    the point is to message the same people again, with something new.
    """
    source = view_of(get_row(session, campaign_id))
    if source.audience_id is None:
        raise ValidationError(
            f"campaign {campaign_id} has no audience to copy", field="campaign_id"
        )
    return CampaignServices(clock).create_draft(
        session,
        name=(COPY_PREFIX + source.name)[:MAX_NAME_LENGTH],
        extra_tags=source.extra_tags,
        audience_id=source.audience_id,
        default_region=source.default_region,
    )
