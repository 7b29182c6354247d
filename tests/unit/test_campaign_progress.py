from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.campaign_progress import (
    ReplyCandidate,
    choose_reply_campaign,
    is_campaign_sent,
)
from herald.domain.ids import CampaignId
from herald.domain.journey_state import Outcome
from herald.errors import ValidationError
from tests.unit.journey_support import T0

MINUTE = timedelta(minutes=1)
A, B, C = CampaignId(1), CampaignId(2), CampaignId(3)


@pytest.mark.parametrize(
    ("contacts", "outcomes", "is_sent"),
    [
        (3, {}, False),
        (3, {Outcome.DELIVERED: 2}, False),
        (3, {Outcome.DELIVERED: 2, Outcome.REPLIED: 1}, True),
        (5, {outcome: 1 for outcome in Outcome if outcome is not Outcome.CANCELLED}, True),
        (0, {}, True),
        (2, {Outcome.CANCELLED: 2, Outcome.OPTED_OUT: 0}, True),
    ],
)
def test_a_campaign_is_sent_when_every_contact_has_an_outcome(
    contacts: int, outcomes: dict[Outcome, int], is_sent: bool
) -> None:
    assert is_campaign_sent(contacts, outcomes) is is_sent


@given(st.dictionaries(st.sampled_from(Outcome), st.integers(0, 1000)), st.integers(0, 1000))
def test_sent_is_exactly_all_contacts_completed(outcomes: dict[Outcome, int], pending: int) -> None:
    contacts = sum(outcomes.values()) + pending
    assert is_campaign_sent(contacts, outcomes) is (pending == 0)


@pytest.mark.parametrize(
    ("contacts", "outcomes", "field"),
    [
        (-1, {}, "contacts"),
        (3, {Outcome.REPLIED: -1}, "outcomes.replied"),
        (1, {Outcome.REPLIED: 1, Outcome.DELIVERED: 1}, "outcomes"),
    ],
)
def test_impossible_counts_are_refused(
    contacts: int, outcomes: dict[Outcome, int], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        is_campaign_sent(contacts, outcomes)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("candidates", "chosen"),
    [
        ([], None),
        ([ReplyCandidate(A)], None),
        ([ReplyCandidate(A, last_sent_at=T0)], A),
        (
            [
                ReplyCandidate(A, last_delivered_at=T0 + MINUTE, last_sent_at=T0),
                ReplyCandidate(B, last_delivered_at=T0 + 2 * MINUTE, last_sent_at=T0),
            ],
            B,
        ),
        # B's status has not come yet but its message left after A's was delivered.
        (
            [
                ReplyCandidate(A, last_delivered_at=T0 + MINUTE, last_sent_at=T0),
                ReplyCandidate(B, last_sent_at=T0 + 2 * MINUTE),
            ],
            B,
        ),
        # A newer delivery of an older send still counts from its delivery.
        (
            [
                ReplyCandidate(A, last_delivered_at=T0 + 10 * MINUTE, last_sent_at=T0),
                ReplyCandidate(B, last_sent_at=T0 + 2 * MINUTE),
            ],
            A,
        ),
        # Same moment: a confirmed delivery beats a mere send.
        (
            [
                ReplyCandidate(B, last_sent_at=T0),
                ReplyCandidate(A, last_delivered_at=T0),
            ],
            A,
        ),
        # Same moment, same evidence: the newer campaign.
        ([ReplyCandidate(C, last_sent_at=T0), ReplyCandidate(B, last_sent_at=T0)], C),
        ([ReplyCandidate(B), ReplyCandidate(C, last_sent_at=T0)], C),
    ],
)
def test_a_reply_goes_to_the_campaign_that_reached_the_contact_most_recently(
    candidates: list[ReplyCandidate], chosen: CampaignId | None
) -> None:
    assert choose_reply_campaign(candidates) == chosen
    assert choose_reply_campaign(reversed(candidates)) == chosen
