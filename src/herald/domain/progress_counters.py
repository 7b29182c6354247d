"""Counters a campaign's progress view reads, kept incrementally by the engine.

The engine adds deltas to named counters in bulk with every batch (see
:mod:`herald.store.campaigns`); the progress view reads them back in one
small query, whatever the audience size. Besides outcomes, messages per
channel, step statuses and error codes, two families serve the charts:

- **Funnel.** ``funnel:sent`` counts contacts who had at least one chain
  message leave Herald (accepted, sent with its answer lost, or already
  reported on); ``funnel:delivered`` counts contacts whose chain reached
  them. Both move once per contact, when a transition first makes them true,
  so they count people, not messages.
- **Timeline.** ``timeline:<minute>:<channel>`` counts messages that left
  Herald in that UTC minute on that channel (see :func:`steps_sent`). Minutes keep short campaigns
  readable; the chart groups them into wider buckets for long ones (see
  :func:`bucket_sends`). Names sort by time, so a prefix range reads them
  in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from herald.domain.journey_state import JourneyState, StepStatus

FUNNEL_SENT = "funnel:sent"
FUNNEL_DELIVERED = "funnel:delivered"
TIMELINE_PREFIX = "timeline:"
_MINUTE_FORMAT = "%Y-%m-%dT%H:%M"
_MINUTE_LENGTH = len("2025-01-01T00:00")

# A chain step in one of these statuses has had a message leave Herald.
LEFT_STATUSES = frozenset(
    {
        StepStatus.UNKNOWN,
        StepStatus.ACCEPTED,
        StepStatus.DELIVERED,
        StepStatus.READ,
        StepStatus.FAILED,
        StepStatus.EXPIRED,
    }
)

# Bucket widths the timeline chooses from, narrowest first.
BUCKET_CHOICES = tuple(
    timedelta(minutes=minutes) for minutes in (1, 5, 15, 30, 60, 180, 360, 720, 1440, 10080)
)
MAX_BUCKETS = 48


def funnel_changes(chain_length: int, before: JourneyState, after: JourneyState) -> list[str]:
    """The funnel counters a transition from ``before`` to ``after`` increments.

    ``chain_length`` is the number of chain steps (primary and fallbacks);
    the follow-up, which comes after delivery, never counts as a first send.
    """
    names = []
    if _has_left(chain_length, after) and not _has_left(chain_length, before):
        names.append(FUNNEL_SENT)
    if after.delivered_at is not None and before.delivered_at is None:
        names.append(FUNNEL_DELIVERED)
    return names


def steps_sent(before: JourneyState, after: JourneyState) -> list[int]:
    """The steps whose message left Herald in a transition from ``before`` to ``after``.

    Counted on the step's status rather than on the provider's answer, so a
    send whose answer was lost (recovered as unknown) or overtaken by its
    delivery status is counted too, and each step of a contact at most once.
    """
    size = max(len(before.steps), len(after.steps))
    return [
        step
        for step in range(size)
        if after.status_of(step) in LEFT_STATUSES and before.status_of(step) not in LEFT_STATUSES
    ]


def _has_left(chain_length: int, state: JourneyState) -> bool:
    return any(state.status_of(step) in LEFT_STATUSES for step in range(chain_length))


def timeline_counter(at: datetime, channel: str) -> str:
    """The counter of messages that left on ``channel`` in ``at``'s UTC minute."""
    return f"{TIMELINE_PREFIX}{at.astimezone(UTC).strftime(_MINUTE_FORMAT)}:{channel}"


@dataclass(frozen=True)
class SendBucket:
    start: datetime
    counts: Mapping[str, int]  # messages per channel

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class SendTimeline:
    """Messages sent over time, in equal buckets from the first send to the last."""

    width: timedelta
    buckets: tuple[SendBucket, ...]
    channels: tuple[str, ...]  # every channel that appears, in a stable order

    @property
    def peak(self) -> int:
        return max((bucket.total for bucket in self.buckets), default=0)

    @property
    def total(self) -> int:
        return sum(bucket.total for bucket in self.buckets)

    def channel_total(self, channel: str) -> int:
        return sum(bucket.counts.get(channel, 0) for bucket in self.buckets)


def read_timeline(counters: Mapping[str, int]) -> dict[tuple[datetime, str], int]:
    """Per-minute send counts from the timeline counters; other counters are ignored.

    A name that does not parse is skipped rather than trusted: the chart is
    a view, and one odd counter must not take the page down.
    """
    minutes: dict[tuple[datetime, str], int] = {}
    for name, value in counters.items():
        if not name.startswith(TIMELINE_PREFIX) or value <= 0:
            continue
        moment, _, channel = name.removeprefix(TIMELINE_PREFIX).rpartition(":")
        try:
            # fromisoformat, not strptime: several times faster, and a long
            # campaign has thousands of minutes to read on every refresh.
            start = datetime.fromisoformat(moment).replace(tzinfo=UTC)
        except ValueError:
            continue
        if len(moment) != _MINUTE_LENGTH:
            continue
        minutes[(start, channel)] = minutes.get((start, channel), 0) + value
    return minutes


def bucket_sends(
    minutes: Mapping[tuple[datetime, str], int], *, max_buckets: int = MAX_BUCKETS
) -> SendTimeline:
    """Group per-minute counts into the narrowest width giving at most ``max_buckets``.

    Buckets are aligned to multiples of their width since the epoch, so the
    same minute always falls in the same bucket as the campaign goes on;
    empty buckets between the first and the last send are kept (a gap in
    sending is information).
    """
    channels = tuple(sorted({channel for _, channel in minutes}))
    if not minutes:
        return SendTimeline(BUCKET_CHOICES[0], (), channels)
    first = min(start for start, _ in minutes)
    last = max(start for start, _ in minutes)
    width = _width_for(last - first, max_buckets)
    counts: dict[datetime, dict[str, int]] = {}
    for (start, channel), value in minutes.items():
        per_channel = counts.setdefault(_floor(start, width), {})
        per_channel[channel] = per_channel.get(channel, 0) + value
    buckets = []
    moment = _floor(first, width)
    while moment <= last:
        buckets.append(SendBucket(moment, counts.get(moment, {})))
        moment += width
    return SendTimeline(width, tuple(buckets), channels)


def _width_for(span: timedelta, max_buckets: int) -> timedelta:
    for width in BUCKET_CHOICES:
        # span // width + 2: the first and last minutes may fall in partial buckets.
        if span // width + 2 <= max_buckets:
            return width
    return BUCKET_CHOICES[-1]


def _floor(moment: datetime, width: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // width) * width
