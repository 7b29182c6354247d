"""The campaign CLI's printing helpers: the progress watch loop, durations, local times."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from rich.console import Console

from herald.cli.campaign_output import duration_text, print_preview, watch_progress
from herald.domain.campaign import CampaignStatus
from herald.domain.ids import CampaignId
from herald.domain.preview import ContactData, render_step
from herald.errors import ValidationError
from herald.services.campaign_preview import ContactPreview
from herald.services.campaign_views import CampaignView, format_local, parse_local
from herald.services.campaigns import Progress
from tests.unit.campaign_factories import sms_step

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
RUNNING = CampaignView(
    id=CampaignId(1),
    name="Reminders",
    tag="reminders",
    tags=("reminders",),
    status=CampaignStatus.RUNNING,
    audience_id=1,
    agent_version_id=1,
    journey=None,
    default_region="US",
    schedule_local=None,
    schedule_timezone=None,
    schedule_utc_offset=None,
    start_at=None,
    contact_count=3,
    created_at=NOW,
    updated_at=NOW,
    launched_at=NOW,
    completed_at=None,
)


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=120, force_terminal=False), buffer


def test_the_watch_redraws_until_the_campaign_is_sent() -> None:
    readings = [
        Progress(RUNNING, {}),
        Progress(RUNNING, {"outcome:delivered": 1}),
        Progress(
            replace(RUNNING, status=CampaignStatus.SENT),
            {
                "outcome:delivered": 2,
                "outcome:replied": 1,
            },
        ),
    ]
    sleeps: list[float] = []
    console, buffer = _console()
    final = watch_progress(
        lambda: readings.pop(0), console, interval_seconds=0.5, sleep=sleeps.append
    )
    assert final.completed == 3 and readings == []
    assert sleeps == [0.5, 0.5]
    shown = buffer.getvalue()
    assert "contacts done" in shown and "3/3" in shown and "replied" in shown


@pytest.mark.parametrize("status", [CampaignStatus.DRAFT, CampaignStatus.CANCELLED])
def test_the_watch_stops_at_once_when_nothing_will_change(status: CampaignStatus) -> None:
    sleeps: list[float] = []
    console, _ = _console()
    progress = Progress(replace(RUNNING, status=status), {})
    watch_progress(lambda: progress, console, interval_seconds=1, sleep=sleeps.append)
    assert sleeps == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "unknown (an integration has no rate limit)"),
        (0, "0 s"),
        (0.004, "under 1 s"),
        (42.4, "42 s"),
        (60, "1 min"),
        (200, "3 min 20 s"),
        (6 * 3600, "6 h"),
        (3600 + 65 * 60, "2 h 5 min"),
    ],
)
def test_durations_read_naturally(seconds: float | None, text: str) -> None:
    assert duration_text(seconds) == text


def test_user_text_is_printed_as_written_not_as_markup() -> None:
    step = sms_step("Hi [bold]{{name}}[/bold]")
    rendered = render_step(step, ContactData({"name": "[red]Sam"}, phone="+12025550101"))
    console, buffer = _console()
    print_preview(
        console, ContactPreview("fallback-1", "fallback 1", "clinic-sms", 2, "+1", None, rendered)
    )
    assert "text: Hi [bold][red]Sam[/bold]" in buffer.getvalue()


@pytest.mark.parametrize(
    ("text", "moment", "written"),
    [
        ("2025-03-30 09:00", datetime(2025, 3, 30, 9, 0), "2025-03-30 09:00"),
        ("2025-03-30T09:00:30", datetime(2025, 3, 30, 9, 0, 30), "2025-03-30 09:00:30"),
        (" 2025-03-30 09:00 ", datetime(2025, 3, 30, 9, 0), "2025-03-30 09:00"),
    ],
)
def test_local_times_read_and_write_back(text: str, moment: datetime, written: str) -> None:
    assert parse_local(text) == moment
    assert format_local(moment) == written


@pytest.mark.parametrize("text", ["tomorrow", "2025-03-30 09:00+02:00", "2025-02-30 09:00"])
def test_unreadable_or_offset_local_times_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="not a local date and time") as caught:
        parse_local(text)
    assert caught.value.field == "schedule.at"
