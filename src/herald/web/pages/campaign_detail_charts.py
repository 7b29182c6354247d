"""Chart geometry for the progress view, drawn by the templates as inline SVG.

No chart library and no script: the server computes rectangles in a fixed
coordinate system (``viewBox``) and the browser scales them to the width
available, so charts work at phone width, print, and stay readable with
scripts off. Every chart also comes with its numbers as text (a table or
labelled values) for screen readers and for people who prefer reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from herald.domain.progress_counters import SendTimeline
from herald.services.campaign_monitor import CampaignSnapshot

TIMELINE_HEIGHT = 100
BAR_WIDTH = 10
BAR_GAP = 2
CHANNEL_ORDER = ("whatsapp", "sms", "voice", "email")
CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "voice": "Voice", "email": "Email"}


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    channel: str
    title: str


@dataclass(frozen=True)
class TimelineRow:
    start: str
    counts: tuple[int, ...]  # per channel, in the chart's channel order
    total: int


@dataclass(frozen=True)
class TimelineChart:
    view_width: int
    view_height: int
    rects: tuple[Rect, ...]
    channels: tuple[str, ...]
    channel_totals: tuple[int, ...]  # messages per channel, in ``channels`` order
    rows: tuple[TimelineRow, ...]
    bucket_label: str
    first_label: str
    last_label: str
    peak: int
    total: int

    @property
    def is_empty(self) -> bool:
        return not self.rows


def timeline_chart(timeline: SendTimeline) -> TimelineChart:
    """Stacked bars, one per bucket, one colour per channel, scaled to the busiest bucket."""
    channels = tuple(sorted(timeline.channels, key=_channel_rank))
    peak = timeline.peak
    rects: list[Rect] = []
    rows: list[TimelineRow] = []
    for position, bucket in enumerate(timeline.buckets):
        label = bucket.start.strftime("%Y-%m-%d %H:%M")
        counts = tuple(bucket.counts.get(channel, 0) for channel in channels)
        rows.append(TimelineRow(label, counts, bucket.total))
        top = float(TIMELINE_HEIGHT)
        for channel, count in zip(channels, counts, strict=True):
            if not count or not peak:
                continue
            height = count / peak * TIMELINE_HEIGHT
            top -= height
            rects.append(
                Rect(
                    x=position * BAR_WIDTH + BAR_GAP / 2,
                    y=round(top, 3),
                    width=BAR_WIDTH - BAR_GAP,
                    height=round(height, 3),
                    channel=channel,
                    title=f"{label} UTC: {count:,} {CHANNEL_LABELS.get(channel, channel)}",
                )
            )
    return TimelineChart(
        view_width=max(len(rows), 1) * BAR_WIDTH,
        view_height=TIMELINE_HEIGHT,
        rects=tuple(rects),
        channels=channels,
        channel_totals=tuple(timeline.channel_total(channel) for channel in channels),
        rows=tuple(rows),
        bucket_label=_duration(timeline.width),
        first_label=rows[0].start if rows else "",
        last_label=rows[-1].start if rows else "",
        peak=peak,
        total=timeline.total,
    )


def live_context(current: CampaignSnapshot) -> dict[str, Any]:
    """What the live panel template needs, for the page and for the stream alike."""
    return {
        "snap": current,
        "timeline": timeline_chart(current.timeline),
        "channel_labels": CHANNEL_LABELS,
    }


def _channel_rank(channel: str) -> tuple[int, str]:
    known = CHANNEL_ORDER.index(channel) if channel in CHANNEL_ORDER else len(CHANNEL_ORDER)
    return known, channel


def _duration(width: timedelta) -> str:
    minutes = int(width.total_seconds() // 60)
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "1 day" if days == 1 else f"{days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
