"""The stored form of a journey state: round trips, and damaged rows named precisely."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.journey_events import (
    Launch,
    SendAccepted,
    SendRejectedRetryable,
    SendRejectedTerminal,
)
from herald.domain.journey_state import (
    JourneyState,
    Outcome,
    Phase,
    StepStatus,
    Timer,
    TimerKind,
    step_changes,
)
from herald.errors import ValidationError
from tests.unit.journey_support import SMS, WA, Journey, make_plan

MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@st.composite
def states(draw: st.DrawFn) -> JourneyState:
    phase = draw(st.sampled_from(Phase))
    timer = draw(
        st.none() | st.builds(Timer, st.sampled_from(TimerKind), st.integers(0, 5), MOMENTS)
    )
    return JourneyState(
        phase=phase,
        step=draw(st.none() | st.integers(0, 5)),
        attempt=draw(st.integers(0, 30)),
        throttled=draw(st.integers(0, 30)),
        steps=tuple(draw(st.lists(st.sampled_from(StepStatus), max_size=6))),
        timer=timer,
        is_paused=draw(st.booleans()),
        outcome=draw(st.sampled_from(Outcome)) if phase is Phase.DONE else None,
        launched_at=draw(st.none() | MOMENTS),
        delivered_at=draw(st.none() | MOMENTS),
        completed_at=draw(st.none() | MOMENTS),
    )


@given(states())
def test_a_state_survives_a_round_trip_through_json(state: JourneyState) -> None:
    stored = json.loads(json.dumps(state.to_dict()))
    assert JourneyState.from_dict(stored) == state


def test_the_stored_form_is_flat_and_readable() -> None:
    journey = Journey(make_plan(WA, SMS))
    journey.feed_all([Launch(), SendRejectedRetryable(0, 1, "500")])
    assert journey.state.to_dict() == {
        "phase": "retry_wait",
        "step": 0,
        "attempt": 1,
        "throttled": 0,
        "steps": ["sending"],
        "timer_kind": "retry",
        "timer_step": 0,
        "timer_due_at": "2025-01-06T09:00:30+00:00",
        "is_paused": False,
        "outcome": None,
        "launched_at": "2025-01-06T09:00:00+00:00",
        "delivered_at": None,
        "completed_at": None,
    }
    assert journey.state.due_at == datetime(2025, 1, 6, 9, 0, 30, tzinfo=UTC)


def test_the_initial_state_is_pending_with_nothing_due() -> None:
    state = JourneyState()
    assert state.phase is Phase.PENDING and state.due_at is None and not state.is_done
    assert JourneyState.from_dict(state.to_dict()) == state


def test_statuses_beyond_the_stored_ones_are_not_started() -> None:
    state = JourneyState().with_status(2, StepStatus.SKIPPED)
    assert state.steps == (StepStatus.NOT_STARTED, StepStatus.NOT_STARTED, StepStatus.SKIPPED)
    assert state.status_of(7) is StepStatus.NOT_STARTED
    assert state.status_of(-1) is StepStatus.NOT_STARTED


def test_times_in_other_offsets_are_read_back_as_utc() -> None:
    stored = JourneyState().to_dict() | {"launched_at": "2025-01-06T10:00:00+01:00"}
    launched_at = JourneyState.from_dict(stored).launched_at
    assert launched_at == datetime(2025, 1, 6, 9, tzinfo=UTC) and launched_at.tzinfo is UTC
    moment = datetime(2025, 1, 6, 10, tzinfo=timezone(timedelta(hours=1)))
    assert JourneyState(launched_at=moment).to_dict()["launched_at"] == "2025-01-06T09:00:00+00:00"


@pytest.mark.parametrize(
    ("damage", "field"),
    [
        ({"phase": "lost"}, "phase"),
        ({"phase": None}, "phase"),
        ({"attempt": -1}, "attempt"),
        ({"attempt": True}, "attempt"),
        ({"throttled": "2"}, "throttled"),
        ({"step": 1.5}, "step"),
        ({"steps": ["sending", "mailed"]}, "steps"),
        ({"steps": "sending"}, "steps"),
        ({"timer_kind": "alarm"}, "timer_kind"),
        ({"timer_kind": "retry", "timer_step": None}, "timer_step"),
        ({"timer_kind": "retry", "timer_step": 0, "timer_due_at": "soon"}, "timer_due_at"),
        (
            {"timer_kind": "retry", "timer_step": 0, "timer_due_at": "2025-01-06T09:00"},
            "timer_due_at",
        ),
        ({"is_paused": "no"}, "is_paused"),
        ({"outcome": "delivered"}, "outcome"),
        ({"phase": "done"}, "outcome"),
        ({"launched_at": 1736150400}, "launched_at"),
    ],
)
def test_a_damaged_state_is_refused_naming_the_field(damage: dict[str, object], field: str) -> None:
    journey = Journey(make_plan(WA, SMS))
    journey.feed_all([Launch(), SendAccepted(0, 1)])
    stored: dict[str, object] = {**journey.state.to_dict(), **damage}
    with pytest.raises(ValidationError) as caught:
        JourneyState.from_dict(stored)
    assert caught.value.field == field


def test_a_missing_field_is_named() -> None:
    stored = JourneyState().to_dict()
    del stored["attempt"]
    with pytest.raises(ValidationError, match="attempt") as caught:
        JourneyState.from_dict(stored)
    assert caught.value.field == "attempt"


def test_step_changes_list_each_changed_status_once() -> None:
    journey = Journey(make_plan(WA, SMS))
    journey.feed(Launch())
    before = journey.state
    journey.feed(SendRejectedTerminal(0, 1, "131026"))
    assert step_changes(before, journey.state) == [
        (0, StepStatus.SENDING, StepStatus.REJECTED),
        (1, StepStatus.NOT_STARTED, StepStatus.SENDING),
    ]
    assert step_changes(journey.state, journey.state) == []
