"""Funnel and timeline counters: what a transition counts, how sends are bucketed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.domain.journey_state import JourneyState, StepStatus
from herald.domain.progress_counters import (
    FUNNEL_DELIVERED,
    FUNNEL_SENT,
    bucket_sends,
    funnel_changes,
    read_timeline,
    steps_sent,
    timeline_counter,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _state(*steps: StepStatus, delivered: bool = False) -> JourneyState:
    return JourneyState(steps=steps, delivered_at=T0 if delivered else None)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (_state(), _state(StepStatus.SENDING), []),
        (_state(StepStatus.SENDING), _state(StepStatus.ACCEPTED), [FUNNEL_SENT]),
        (_state(StepStatus.SENDING), _state(StepStatus.UNKNOWN), [FUNNEL_SENT]),
        # A status can beat the acceptance: it still means the message left.
        (_state(StepStatus.SENDING), _state(StepStatus.FAILED), [FUNNEL_SENT]),
        (_state(StepStatus.SENDING), _state(StepStatus.REJECTED), []),
        (
            _state(StepStatus.SKIPPED),
            _state(StepStatus.SKIPPED, StepStatus.ACCEPTED),
            [FUNNEL_SENT],
        ),
        # The fallback after a failed primary is the same contact: counted once.
        (_state(StepStatus.FAILED), _state(StepStatus.FAILED, StepStatus.ACCEPTED), []),
        (
            _state(StepStatus.ACCEPTED),
            _state(StepStatus.DELIVERED, delivered=True),
            [FUNNEL_DELIVERED],
        ),
        (
            _state(StepStatus.SENDING),
            _state(StepStatus.DELIVERED, delivered=True),
            [FUNNEL_SENT, FUNNEL_DELIVERED],
        ),
        (_state(StepStatus.DELIVERED, delivered=True), _state(StepStatus.READ, delivered=True), []),
    ],
)
def test_funnel_counts_each_contact_once_per_stage(
    before: JourneyState, after: JourneyState, expected: list[str]
) -> None:
    assert funnel_changes(2, before, after) == expected


def test_the_follow_up_is_not_a_first_send() -> None:
    before = _state(StepStatus.DELIVERED, StepStatus.NOT_STARTED, delivered=True)
    after = _state(
        StepStatus.DELIVERED, StepStatus.NOT_STARTED, StepStatus.ACCEPTED, delivered=True
    )
    assert funnel_changes(1, _state(), after) == [FUNNEL_SENT, FUNNEL_DELIVERED]
    assert funnel_changes(1, before, after) == []
    assert funnel_changes(1, _state(), _state(StepStatus.SKIPPED, StepStatus.ACCEPTED)) == []


def test_timeline_counters_name_the_utc_minute_and_channel() -> None:
    local = datetime(2025, 3, 3, 10, 7, 59, tzinfo=UTC) + timedelta(hours=0)
    assert timeline_counter(local, "sms") == "timeline:2025-03-03T10:07:sms"
    counters = {
        "timeline:2025-03-03T10:07:sms": 3,
        "timeline:2025-03-03T10:07:whatsapp": 2,
        "timeline:not-a-time:sms": 9,
        "sent:sms": 3,
    }
    assert read_timeline(counters) == {
        (datetime(2025, 3, 3, 10, 7, tzinfo=UTC), "sms"): 3,
        (datetime(2025, 3, 3, 10, 7, tzinfo=UTC), "whatsapp"): 2,
    }


def test_short_campaigns_keep_minutes_and_gaps() -> None:
    minutes = {(T0, "whatsapp"): 5, (T0 + timedelta(minutes=3), "sms"): 2}
    timeline = bucket_sends(minutes)
    assert timeline.width == timedelta(minutes=1)
    assert [bucket.total for bucket in timeline.buckets] == [5, 0, 0, 2]
    assert timeline.channels == ("sms", "whatsapp")
    assert timeline.peak == 5 and timeline.total == 7


def test_long_campaigns_use_wider_aligned_buckets() -> None:
    minutes = {(T0 + timedelta(minutes=m), "sms"): 1 for m in range(0, 3 * 24 * 60, 7)}
    timeline = bucket_sends(minutes, max_buckets=48)
    assert len(timeline.buckets) <= 48
    assert timeline.width == timedelta(hours=3)
    assert all(
        bucket.start.hour % 3 == 0 and bucket.start.minute == 0 for bucket in timeline.buckets
    )
    assert timeline.total == len(minutes)


def test_no_sends_is_an_empty_timeline() -> None:
    timeline = bucket_sends({})
    assert timeline.buckets == () and timeline.peak == 0


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (_state(), _state(StepStatus.SENDING), []),
        (_state(StepStatus.SENDING), _state(StepStatus.ACCEPTED), [0]),
        # Recovered after a crash: the answer was lost, the message may have left.
        (_state(StepStatus.SENDING), _state(StepStatus.UNKNOWN), [0]),
        (_state(StepStatus.UNKNOWN), _state(StepStatus.ACCEPTED), []),
        (_state(StepStatus.ACCEPTED), _state(StepStatus.DELIVERED), []),
        (_state(StepStatus.SENDING), _state(StepStatus.REJECTED, StepStatus.SENDING), []),
        (
            _state(StepStatus.FAILED, StepStatus.SENDING),
            _state(StepStatus.FAILED, StepStatus.READ),
            [1],
        ),
    ],
)
def test_each_step_counts_as_sent_once(
    before: JourneyState, after: JourneyState, expected: list[int]
) -> None:
    assert steps_sent(before, after) == expected
