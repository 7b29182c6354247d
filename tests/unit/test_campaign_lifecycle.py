from __future__ import annotations

import itertools

import pytest

from herald.domain.campaign import (
    TRANSITIONS,
    CampaignAction,
    CampaignStatus,
    allowed_actions,
    ensure_editable,
    next_status,
)
from herald.errors import IllegalTransitionError

S, A = CampaignStatus, CampaignAction

# Written out independently of TRANSITIONS: every legal pair and its target.
EXPECTED = {
    (S.DRAFT, A.SCHEDULE): S.SCHEDULED,
    (S.DRAFT, A.LAUNCH): S.RUNNING,
    (S.SCHEDULED, A.SCHEDULE): S.SCHEDULED,
    (S.SCHEDULED, A.UNSCHEDULE): S.DRAFT,
    (S.SCHEDULED, A.LAUNCH): S.RUNNING,
    (S.SCHEDULED, A.PAUSE): S.PAUSED,
    (S.SCHEDULED, A.CANCEL): S.CANCELLED,
    (S.RUNNING, A.PAUSE): S.PAUSED,
    (S.RUNNING, A.CANCEL): S.CANCELLED,
    (S.RUNNING, A.COMPLETE): S.SENT,
    (S.PAUSED, A.RESUME): S.RUNNING,
    (S.PAUSED, A.CANCEL): S.CANCELLED,
    (S.PAUSED, A.COMPLETE): S.SENT,
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(S, A)))
def test_every_status_and_action_pair(status: CampaignStatus, action: CampaignAction) -> None:
    expected = EXPECTED.get((status, action))
    if expected is not None:
        assert next_status(status, action) is expected
        return
    with pytest.raises(IllegalTransitionError) as caught:
        next_status(status, action)
    assert caught.value.code == "illegal_transition"
    assert f"cannot {action.value} a {status.value} campaign" in caught.value.message


def test_the_table_is_exactly_the_expected_one() -> None:
    assert dict(TRANSITIONS) == EXPECTED


def test_resuming_a_campaign_paused_before_its_start_returns_it_to_scheduled() -> None:
    assert next_status(S.PAUSED, A.RESUME, has_started=False) is S.SCHEDULED
    assert next_status(S.PAUSED, A.RESUME, has_started=True) is S.RUNNING


def test_has_started_does_not_change_other_transitions() -> None:
    assert next_status(S.RUNNING, A.PAUSE, has_started=False) is S.PAUSED
    assert next_status(S.PAUSED, A.CANCEL, has_started=False) is S.CANCELLED


def test_refusals_list_what_is_allowed_instead() -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        next_status(S.DRAFT, A.PAUSE)
    assert caught.value.message == (
        "cannot pause a draft campaign; a draft campaign can: schedule, launch"
    )


@pytest.mark.parametrize("status", [S.SENT, S.CANCELLED])
def test_final_statuses_accept_nothing(status: CampaignStatus) -> None:
    assert allowed_actions(status) == ()
    with pytest.raises(IllegalTransitionError, match=f"{status.value} is final"):
        next_status(status, A.RESUME)


def test_allowed_actions() -> None:
    assert allowed_actions(S.RUNNING) == (A.PAUSE, A.CANCEL, A.COMPLETE)
    assert allowed_actions(S.SCHEDULED) == (A.SCHEDULE, A.UNSCHEDULE, A.LAUNCH, A.PAUSE, A.CANCEL)


@pytest.mark.parametrize("status", list(S))
def test_only_drafts_and_scheduled_campaigns_can_be_edited(status: CampaignStatus) -> None:
    if status in (S.DRAFT, S.SCHEDULED):
        ensure_editable(status)
        return
    with pytest.raises(IllegalTransitionError, match=f"cannot edit a {status.value} campaign"):
        ensure_editable(status)
