"""Scheduled starts: a local wall-clock time in an IANA timezone, stored in UTC.

People schedule in their own time ("Monday 09:00 in Berlin"), Herald stores
and compares UTC. Two local times cannot be converted without asking:

- a time in the spring-forward gap does not exist (Berlin has no 02:30 on
  the last Sunday of March): refused, naming the last minute before the gap
  and the first one after it;
- a time in the fall-back overlap happens twice (Berlin's 02:30 on the last
  Sunday of October, first at UTC+02:00, then at UTC+01:00): refused unless
  the caller picks one with ``utc_offset``; the message names both offsets.

Guessing either way would send a campaign an hour early or late, or at a
time the user never wrote. The host's ``localtime`` is refused as a zone
because it would make a campaign depend on the server it runs on.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from herald.errors import ValidationError

HOST_DEPENDENT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
_OFFSET = re.compile(r"(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2})?")
_SECOND = timedelta(seconds=1)
_MINUTE = timedelta(minutes=1)


def load_timezone(name: str, *, field: str = "schedule.timezone") -> ZoneInfo:
    """The IANA zone called ``name``; a ValidationError suggesting close names if unknown."""
    if name not in HOST_DEPENDENT_ZONES:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    hint = _suggest_zones(name)
    raise ValidationError(
        f"unknown timezone {name!r}; use an IANA name such as Europe/Berlin{hint}",
        code="unknown_timezone",
        field=field,
    )


def parse_utc_offset(text: str, *, field: str = "schedule.utc_offset") -> timedelta:
    """``+02:00``, ``-0330`` or ``+05`` as a timedelta."""
    match = _OFFSET.fullmatch(text.strip())
    if match is None or int(match["hours"]) > 23 or int(match["minutes"] or 0) > 59:
        raise ValidationError(
            f"{text!r} is not a UTC offset; write it as +HH:MM, e.g. +01:00",
            code="invalid_utc_offset",
            field=field,
        )
    delta = timedelta(hours=int(match["hours"]), minutes=int(match["minutes"] or 0))
    return -delta if match["sign"] == "-" else delta


def format_utc_offset(offset: timedelta) -> str:
    """``+02:00`` style; seconds are dropped (no zone in use has any)."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_to_utc(
    local: datetime,
    timezone: str,
    *,
    utc_offset: timedelta | str | None = None,
    field: str = "schedule",
) -> datetime:
    """Convert a naive local ``local`` in ``timezone`` to an aware UTC datetime.

    Refuses (ValidationError, ``field`` + ``.at`` / ``.timezone`` /
    ``.utc_offset``): an unknown zone, an aware ``local``, a time in a DST
    gap, and a time in a DST overlap unless ``utc_offset`` says which of its
    two occurrences is meant. ``utc_offset`` must be an offset the zone uses
    at that local time.
    """
    if local.tzinfo is not None:
        raise ValidationError(
            "the start time must be a local time without a UTC offset; "
            "give the offset separately as utc_offset",
            code="invalid_local_time",
            field=f"{field}.at",
        )
    zone = load_timezone(timezone, field=f"{field}.timezone")
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    if not _exists(first):
        raise _gap_error(local, timezone, first, second, f"{field}.at")
    if isinstance(utc_offset, str):
        utc_offset = parse_utc_offset(utc_offset, field=f"{field}.utc_offset")
    if utc_offset is not None:
        chosen = _pick_occurrence(local, timezone, (first, second), utc_offset, field)
    elif first.utcoffset() != second.utcoffset():
        raise _overlap_error(local, timezone, first, second, f"{field}.at")
    else:
        chosen = first
    return chosen.astimezone(UTC)


def ensure_not_past(start: datetime, *, now: datetime, field: str = "schedule.at") -> datetime:
    """Return ``start`` unless it lies before ``now`` (both aware)."""
    if start.tzinfo is None or now.tzinfo is None:
        raise ValueError("start and now must be aware datetimes")
    if start < now:
        raise ValidationError(
            f"the start {start.astimezone(UTC):%Y-%m-%d %H:%M} UTC is in the past "
            f"(now is {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC); pick a later time or send now",
            code="start_in_past",
            field=field,
        )
    return start


def resolve_start(
    local: datetime,
    timezone: str,
    *,
    now: datetime,
    utc_offset: timedelta | str | None = None,
    field: str = "schedule",
) -> datetime:
    """:func:`local_to_utc` plus :func:`ensure_not_past`: what scheduling a launch needs."""
    start = local_to_utc(local, timezone, utc_offset=utc_offset, field=field)
    return ensure_not_past(start, now=now, field=f"{field}.at")


def _exists(aware: datetime) -> bool:
    """True if the wall time survives a round trip through UTC (it is not in a gap)."""
    back = aware.astimezone(UTC).astimezone(aware.tzinfo)
    return back.replace(tzinfo=None) == aware.replace(tzinfo=None)


def _transition(before: datetime, after: datetime) -> datetime:
    """The UTC instant, to the second, where the offset changes between two instants."""
    zone = before.tzinfo
    low, high = before.astimezone(UTC), after.astimezone(UTC)
    old = low.astimezone(zone).utcoffset()
    while high - low > _SECOND:
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == old:
            low = middle
        else:
            high = middle
    return high


def _gap_error(
    local: datetime, timezone: str, first: datetime, second: datetime, field: str
) -> ValidationError:
    # In a gap, fold=0 reads the wall time with the offset before the jump
    # (an instant after it) and fold=1 with the offset after (an instant before).
    old, new = first.utcoffset(), second.utcoffset()
    assert old is not None and new is not None
    change = _transition(second, first)
    starts, ends = (change + old).replace(tzinfo=None), (change + new).replace(tzinfo=None)
    last_valid = (starts - _MINUTE).replace(second=0, microsecond=0)
    return ValidationError(
        f"{_show(local)} does not exist in {timezone} (clocks jump from "
        f"{_show(starts, local)} to {_show(ends, local)}); choose "
        f"{_show(last_valid, local)} or {_show(ends, local)} or later",
        code="nonexistent_local_time",
        field=field,
    )


def _overlap_error(
    local: datetime, timezone: str, first: datetime, second: datetime, field: str
) -> ValidationError:
    old, new = first.utcoffset(), second.utcoffset()
    assert old is not None and new is not None
    change = _transition(first, second)
    was, becomes = (change + old).replace(tzinfo=None), (change + new).replace(tzinfo=None)
    return ValidationError(
        f"{_show(local)} is ambiguous in {timezone} (clocks go back from "
        f"{_show(was, local)} to {_show(becomes, local)}, so it happens twice): first at "
        f"UTC{format_utc_offset(old)} ({first.tzname()}), then at UTC{format_utc_offset(new)} "
        f"({second.tzname()}); choose one with utc_offset {format_utc_offset(old)} "
        f"or {format_utc_offset(new)}",
        code="ambiguous_local_time",
        field=field,
    )


def _pick_occurrence(
    local: datetime,
    timezone: str,
    occurrences: tuple[datetime, datetime],
    offset: timedelta,
    field: str,
) -> datetime:
    for occurrence in occurrences:
        if occurrence.utcoffset() == offset:
            return occurrence
    used = " or ".join(dict.fromkeys(_offset_of(item) for item in occurrences))
    raise ValidationError(
        f"{timezone} is not at UTC{format_utc_offset(offset)} at {_show(local)}; "
        f"it is at UTC{used}",
        code="invalid_utc_offset",
        field=f"{field}.utc_offset",
    )


def _offset_of(aware: datetime) -> str:
    offset = aware.utcoffset()
    assert offset is not None
    return format_utc_offset(offset)


def _show(moment: datetime, reference: datetime | None = None) -> str:
    """Wall time as ``HH:MM``, with the date unless it is ``reference``'s date."""
    clock = f"{moment:%H:%M}" if moment.second == 0 else f"{moment:%H:%M:%S}"
    if reference is not None and moment.date() == reference.date():
        return clock
    return f"{moment:%Y-%m-%d} {clock}"


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones() - HOST_DEPENDENT_ZONES}


def _suggest_zones(name: str) -> str:
    names = _zone_names()
    exact = names.get(name.strip().lower())
    if exact is not None:
        return f"; did you mean {exact}?"
    close = difflib.get_close_matches(name.lower(), list(names), n=3, cutoff=0.75)
    if not close:
        return ""
    return "; did you mean " + " or ".join(names[item] for item in close) + "?"
