"""Timeline chart geometry: stacked bars scaled to the busiest bucket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from herald.domain.progress_counters import bucket_sends
from herald.web.pages.campaign_detail_charts import TIMELINE_HEIGHT, timeline_chart

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_bars_stack_by_channel_and_the_busiest_fills_the_height() -> None:
    minutes = {
        (T0, "whatsapp"): 600_000,
        (T0, "sms"): 400_000,
        (T0 + timedelta(minutes=2), "sms"): 250_000,
    }
    chart = timeline_chart(bucket_sends(minutes))
    assert chart.channels == ("whatsapp", "sms")  # the journey's usual order, not alphabetical
    assert chart.channel_totals == (600_000, 650_000)
    assert [row.total for row in chart.rows] == [1_000_000, 0, 250_000]
    first = [rect for rect in chart.rects if rect.x < 10]
    assert sum(rect.height for rect in first) == TIMELINE_HEIGHT
    assert min(rect.y for rect in first) == 0
    last = [rect for rect in chart.rects if rect.x > 20]
    assert [rect.height for rect in last] == [25.0]
    assert last[0].title == "2025-03-03 09:02 UTC: 250,000 SMS"
    assert chart.view_width == 30 and chart.bucket_label == "1 minute"
    assert (chart.first_label, chart.last_label) == ("2025-03-03 09:00", "2025-03-03 09:02")


def test_wide_buckets_are_named_in_hours_and_days() -> None:
    hours = {(T0 + timedelta(hours=h), "email"): 1 for h in range(0, 40)}
    assert timeline_chart(bucket_sends(hours)).bucket_label == "1 hour"
    days = {(T0 + timedelta(days=d), "email"): 1 for d in range(0, 20)}
    assert timeline_chart(bucket_sends(days)).bucket_label == "12 hours"


def test_no_sends_draw_nothing() -> None:
    chart = timeline_chart(bucket_sends({}))
    assert chart.is_empty and chart.rects == () and chart.peak == 0
