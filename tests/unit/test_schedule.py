from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.schedule import (
    ensure_not_past,
    format_utc_offset,
    load_timezone,
    local_to_utc,
    parse_utc_offset,
    resolve_start,
)
from herald.errors import ValidationError


def local(text: str) -> datetime:
    return datetime.fromisoformat(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        ("Europe/Berlin", "2025-03-30 01:59", "2025-03-30 00:59"),
        ("Europe/Berlin", "2025-03-30 03:00", "2025-03-30 01:00"),
        ("Europe/Berlin", "2025-07-01 09:00", "2025-07-01 07:00"),
        ("Europe/Berlin", "2025-12-01 09:00", "2025-12-01 08:00"),
        ("America/New_York", "2025-03-09 03:00", "2025-03-09 07:00"),
        ("America/New_York", "2025-11-02 02:00", "2025-11-02 07:00"),
        ("Australia/Sydney", "2025-01-15 09:00", "2025-01-14 22:00"),
        ("Australia/Sydney", "2025-07-15 09:00", "2025-07-14 23:00"),
        ("Australia/Lord_Howe", "2025-10-05 02:30", "2025-10-04 15:30"),
        ("Australia/Lord_Howe", "2025-07-01 12:00", "2025-07-01 01:30"),
        ("Asia/Kolkata", "2025-03-30 02:30", "2025-03-29 21:00"),
        ("Asia/Kolkata", "2025-10-26 02:30", "2025-10-25 21:00"),
        ("UTC", "2025-03-30 02:30", "2025-03-30 02:30"),
    ],
)
def test_ordinary_local_times_convert_to_utc(zone: str, at: str, expected: str) -> None:
    result = local_to_utc(local(at), zone)
    assert result == utc(expected)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("zone", "at", "message"),
    [
        (
            "Europe/Berlin",
            "2025-03-30 02:30",
            "2025-03-30 02:30 does not exist in Europe/Berlin (clocks jump from 02:00 to "
            "03:00); choose 01:59 or 03:00 or later",
        ),
        (
            "America/New_York",
            "2025-03-09 02:00",
            "2025-03-09 02:00 does not exist in America/New_York (clocks jump from 02:00 to "
            "03:00); choose 01:59 or 03:00 or later",
        ),
        (
            "Australia/Sydney",
            "2025-10-05 02:59",
            "2025-10-05 02:59 does not exist in Australia/Sydney (clocks jump from 02:00 to "
            "03:00); choose 01:59 or 03:00 or later",
        ),
        (
            "Australia/Lord_Howe",
            "2025-10-05 02:10",
            "2025-10-05 02:10 does not exist in Australia/Lord_Howe (clocks jump from 02:00 to "
            "02:30); choose 01:59 or 02:30 or later",
        ),
        (
            "America/Santiago",
            "2025-09-07 00:30",
            "2025-09-07 00:30 does not exist in America/Santiago (clocks jump from 00:00 to "
            "01:00); choose 2025-09-06 23:59 or 01:00 or later",
        ),
    ],
)
def test_times_in_a_spring_forward_gap_are_refused_with_alternatives(
    zone: str, at: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        local_to_utc(local(at), zone)
    assert caught.value.message == message
    assert caught.value.code == "nonexistent_local_time"
    assert caught.value.field == "schedule.at"


@pytest.mark.parametrize(
    ("zone", "at", "fragments", "first", "second"),
    [
        (
            "Europe/Berlin",
            "2025-10-26 02:30",
            ["clocks go back from 03:00 to 02:00", "UTC+02:00 (CEST)", "UTC+01:00 (CET)"],
            ("+02:00", "2025-10-26 00:30"),
            ("+01:00", "2025-10-26 01:30"),
        ),
        (
            "America/New_York",
            "2025-11-02 01:30",
            ["clocks go back from 02:00 to 01:00", "UTC-04:00 (EDT)", "UTC-05:00 (EST)"],
            ("-04:00", "2025-11-02 05:30"),
            ("-05:00", "2025-11-02 06:30"),
        ),
        (
            "Australia/Sydney",
            "2025-04-06 02:00",
            ["clocks go back from 03:00 to 02:00", "UTC+11:00 (AEDT)", "UTC+10:00 (AEST)"],
            ("+11:00", "2025-04-05 15:00"),
            ("+10:00", "2025-04-05 16:00"),
        ),
        (
            "Australia/Lord_Howe",
            "2025-04-06 01:45",
            ["clocks go back from 02:00 to 01:30", "UTC+11:00", "UTC+10:30"],
            ("+11:00", "2025-04-05 14:45"),
            ("+10:30", "2025-04-05 15:15"),
        ),
    ],
)
def test_times_in_a_fall_back_overlap_need_an_explicit_offset(
    zone: str,
    at: str,
    fragments: list[str],
    first: tuple[str, str],
    second: tuple[str, str],
) -> None:
    with pytest.raises(ValidationError) as caught:
        local_to_utc(local(at), zone)
    assert caught.value.code == "ambiguous_local_time"
    assert f"{at} is ambiguous in {zone}" in caught.value.message
    assert f"choose one with utc_offset {first[0]} or {second[0]}" in caught.value.message
    for fragment in fragments:
        assert fragment in caught.value.message
    for offset, expected in (first, second):
        assert local_to_utc(local(at), zone, utc_offset=offset) == utc(expected)


def test_an_offset_the_zone_does_not_use_is_refused() -> None:
    with pytest.raises(
        ValidationError, match=r"not at UTC\+03:00 .* it is at UTC\+02:00 or \+01:00"
    ):
        local_to_utc(local("2025-10-26 02:30"), "Europe/Berlin", utc_offset="+03:00")
    with pytest.raises(ValidationError, match=r"it is at UTC\+01:00") as caught:
        local_to_utc(local("2025-01-10 09:00"), "Europe/Berlin", utc_offset="+02:00")
    assert caught.value.field == "schedule.utc_offset"


def test_an_offset_matching_an_unambiguous_time_is_accepted() -> None:
    result = local_to_utc(local("2025-01-10 09:00"), "Europe/Berlin", utc_offset=timedelta(hours=1))
    assert result == utc("2025-01-10 08:00")


def test_an_offset_cannot_make_a_gap_time_exist() -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        local_to_utc(local("2025-03-30 02:30"), "Europe/Berlin", utc_offset="+01:00")


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("Europe/Berln", "did you mean Europe/Berlin"),
        ("europe/berlin", "did you mean Europe/Berlin?"),
        ("Mars/Olympus", "use an IANA name"),
        ("", "use an IANA name"),
        ("../etc/passwd", "use an IANA name"),
        ("/usr/share/zoneinfo/UTC", "use an IANA name"),
        ("Europe", "use an IANA name"),
        ("localtime", "use an IANA name"),
    ],
)
def test_unknown_timezones_are_refused(name: str, hint: str) -> None:
    with pytest.raises(ValidationError, match=hint) as caught:
        load_timezone(name)
    assert caught.value.code == "unknown_timezone"
    assert caught.value.field == "schedule.timezone"


def test_errors_use_the_callers_field_prefix() -> None:
    with pytest.raises(ValidationError) as caught:
        local_to_utc(local("2025-03-30 02:30"), "Europe/Berlin", field="launch")
    assert caught.value.field == "launch.at"


def test_an_aware_local_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="without a UTC offset"):
        local_to_utc(datetime(2025, 1, 1, tzinfo=UTC), "Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("+02:00", timedelta(hours=2)),
        ("-05:00", timedelta(hours=-5)),
        ("+0530", timedelta(hours=5, minutes=30)),
        ("-03", timedelta(hours=-3)),
        (" +10:30 ", timedelta(hours=10, minutes=30)),
    ],
)
def test_parse_utc_offset(text: str, offset: timedelta) -> None:
    assert parse_utc_offset(text) == offset


@pytest.mark.parametrize("text", ["2", "UTC+1", "+25:00", "+01:60", "", "+1:00"])
def test_bad_utc_offsets_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match=r"\+HH:MM"):
        parse_utc_offset(text)


@given(st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59))
def test_offsets_round_trip_through_text(minutes: int) -> None:
    offset = timedelta(minutes=minutes)
    assert parse_utc_offset(format_utc_offset(offset)) == offset


NOW = utc("2025-03-01 12:00")


def test_starts_in_the_past_are_refused() -> None:
    with pytest.raises(ValidationError, match="in the past") as caught:
        resolve_start(local("2025-03-01 12:59"), "Europe/Berlin", now=NOW)
    assert caught.value.code == "start_in_past"
    assert caught.value.field == "schedule.at"


def test_a_start_now_or_later_is_accepted() -> None:
    assert resolve_start(local("2025-03-01 13:00"), "Europe/Berlin", now=NOW) == NOW
    later = resolve_start(local("2025-03-01 08:00"), "America/New_York", now=NOW)
    assert later == utc("2025-03-01 13:00")


def test_ensure_not_past_compares_instants_not_wall_clocks() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert ensure_not_past(datetime(2025, 3, 1, 14, 0, tzinfo=plus_two), now=NOW)
    with pytest.raises(ValueError, match="aware"):
        ensure_not_past(datetime(2025, 3, 1), now=NOW)


_ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe"]


@given(
    st.sampled_from(_ZONES),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
)
def test_every_accepted_local_time_reads_back_as_itself(zone_name: str, at: datetime) -> None:
    at = at.replace(second=0, microsecond=0)
    zone = load_timezone(zone_name)
    try:
        start = local_to_utc(at, zone_name)
    except ValidationError as error:
        assert error.code in {"nonexistent_local_time", "ambiguous_local_time"}
        folds = {at.replace(tzinfo=zone, fold=fold).utcoffset() for fold in (0, 1)}
        assert len(folds) == 2
        return
    assert start.astimezone(zone).replace(tzinfo=None) == at
