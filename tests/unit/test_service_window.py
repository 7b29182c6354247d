"""The 24-hour customer service window decides template versus free-form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.service_window import (
    SERVICE_WINDOW,
    WhatsAppMessageMode,
    choose_message_mode,
    is_window_open,
    window_closes_at,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "ago, is_open",
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59, seconds=59), True),
        (timedelta(hours=24), False),
        (timedelta(days=3), False),
        (timedelta(minutes=-5), True),  # webhook timestamp slightly ahead of our clock
    ],
)
def test_window_is_open_for_24_hours_after_the_last_inbound(ago: timedelta, is_open: bool) -> None:
    assert is_window_open(NOW - ago, NOW) is is_open


def test_a_person_who_never_wrote_has_no_window() -> None:
    assert not is_window_open(None, NOW)
    assert window_closes_at(None) is None


def test_window_closes_a_day_after_the_last_inbound() -> None:
    assert window_closes_at(NOW) == NOW + timedelta(hours=24)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="last_inbound_at"):
        is_window_open(datetime(2025, 3, 10, 11, 0), NOW)
    with pytest.raises(ValueError, match="now"):
        is_window_open(NOW, datetime(2025, 3, 10, 11, 0))


def test_mode_is_free_form_inside_template_outside_none_without_template() -> None:
    recent, stale = NOW - timedelta(hours=1), NOW - timedelta(days=2)
    assert choose_message_mode(recent, NOW, has_template=True) is WhatsAppMessageMode.FREE_FORM
    assert choose_message_mode(stale, NOW, has_template=True) is WhatsAppMessageMode.TEMPLATE
    assert choose_message_mode(stale, NOW, has_template=False) is None
    assert choose_message_mode(None, NOW, has_template=True) is WhatsAppMessageMode.TEMPLATE


@given(seconds_ago=st.integers(-3600, 10 * 86400))
def test_window_matches_its_definition(seconds_ago: int) -> None:
    last = NOW - timedelta(seconds=seconds_ago)
    assert is_window_open(last, NOW) == (NOW - last < SERVICE_WINDOW)
