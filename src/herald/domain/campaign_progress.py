"""Campaign-level rules over journeys: when a campaign is sent, where a reply belongs.

Both are pure functions over small summaries the store can compute cheaply
(outcome counters kept incrementally; each candidate campaign's latest
message times for one address), so they hold whatever the audience size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from herald.domain.ids import CampaignId
from herald.domain.journey_state import Outcome
from herald.errors import ValidationError


def is_campaign_sent(contacts: int, outcomes: Mapping[Outcome, int]) -> bool:
    """Whether every contact of a running campaign has its final outcome.

    ``contacts`` is the number of journeys the campaign launched and
    ``outcomes`` the count of journeys per outcome. A campaign without
    contacts is trivially sent. Counts that cannot be true (negative, or more
    outcomes than contacts) are a bookkeeping fault and raise
    ``ValidationError`` rather than hide it.
    """
    if contacts < 0:
        raise ValidationError("contact count cannot be negative", field="contacts")
    for outcome, count in outcomes.items():
        if count < 0:
            raise ValidationError(
                f"count of {outcome} outcomes cannot be negative", field=f"outcomes.{outcome}"
            )
    completed = sum(outcomes.values())
    if completed > contacts:
        raise ValidationError(
            f"{completed} outcomes counted for {contacts} contacts", field="outcomes"
        )
    return completed == contacts


@dataclass(frozen=True, slots=True)
class ReplyCandidate:
    """A campaign that messaged the address a reply came from.

    ``last_delivered_at`` is the latest delivery (or read) status of any of
    its messages to that address; ``last_sent_at`` the latest time one was
    accepted (or sent with an unknown answer). Either may be missing.
    """

    campaign_id: CampaignId
    last_delivered_at: datetime | None = None
    last_sent_at: datetime | None = None

    @property
    def reached_at(self) -> datetime | None:
        """When this campaign's latest message reached the person, as far as Herald knows.

        A delivered status is the best evidence, but it can lag behind the
        reply it provoked (or never come, as with email), so an accepted
        message counts from the moment it was sent.
        """
        times = [moment for moment in (self.last_delivered_at, self.last_sent_at) if moment]
        return max(times, default=None)


def choose_reply_campaign(candidates: Iterable[ReplyCandidate]) -> CampaignId | None:
    """The campaign whose message reached the person most recently, or ``None``.

    Candidates that never sent anything to the address are not eligible
    (``None`` when no candidate is). Ties on time go to the candidate with a
    delivered status (the evidence is stronger), then to the higher campaign
    id (the newer campaign). The caller chooses the candidates: the campaigns
    that messaged this channel address, running or already sent, since
    replies after completion still belong to their campaign.
    """
    ranked = [
        (reached_at, candidate.last_delivered_at is not None, candidate.campaign_id)
        for candidate in candidates
        if (reached_at := candidate.reached_at) is not None
    ]
    return CampaignId(max(ranked)[2]) if ranked else None
