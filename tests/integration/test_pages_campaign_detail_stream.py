"""Live progress over server-sent events: content, change detection, end of stream."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.channels.base import DeliveryStatus
from herald.web.pages import campaign_detail_stream
from tests.support.detail_pages import DetailWeb, build_detail_web, read_events


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[DetailWeb]:
    yield from build_detail_web(database_url, tmp_path)


def test_the_stream_needs_a_signed_in_user(web: DetailWeb) -> None:
    campaign_id = web.launch()
    response = web.anonymous().get(f"/campaigns/{campaign_id}/progress/stream")
    assert response.status_code == 401


def test_an_unknown_campaign_is_a_plain_404(web: DetailWeb) -> None:
    response = web.client.get("/campaigns/404/progress/stream")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_finished_campaign_sends_its_state_then_ends(web: DetailWeb) -> None:
    campaign_id = web.launch()
    web.post(f"/campaigns/{campaign_id}/cancel", {"confirm": "cancel"})
    web.harness.settle()
    with web.client.stream("GET", f"/campaigns/{campaign_id}/progress/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        events = read_events(response.iter_lines())
    assert [name for name, _ in events] == ["progress", "end"]
    progress = json.loads(events[0][1])
    assert progress["status"] == "cancelled"
    assert progress["is_final"] is True
    assert progress["completed"] == progress["contacts"] == 3
    assert '<dd data-outcome="cancelled">3</dd>' in progress["html"]
    assert "/pause" not in progress["html"]
    assert json.loads(events[1][1]) == {"status": "cancelled"}


def test_the_stream_follows_a_running_campaign_until_it_is_sent(
    web: DetailWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaign_detail_stream, "TICK_SECONDS", 0.02)
    campaign_id = web.launch()
    web.harness.settle()
    journeys = web.harness.journey_ids(campaign_id)

    def deliver_later() -> None:
        for journey_id in journeys:
            web.status(journey_id, 0, DeliveryStatus.DELIVERED)
        web.harness.settle()

    with web.client.stream("GET", f"/campaigns/{campaign_id}/progress/stream") as response:
        lines = response.iter_lines()
        assert next(lines) == "retry: 3000"
        first = read_events(lines, until="progress")
        assert json.loads(first[-1][1])["status"] == "running"
        worker = threading.Thread(target=deliver_later)
        worker.start()
        rest = read_events(lines)
        worker.join()
    names = [name for name, _ in rest]
    assert names[-1] == "end" and set(names[:-1]) == {"progress"}
    payloads = [json.loads(data) for name, data in rest if name == "progress"]
    # Only changes are sent: no two consecutive events carry the same state.
    assert all(a != b for a, b in itertools.pairwise(payloads))
    last = payloads[-1]
    assert last["status"] == "sent" and last["completed"] == 3
    assert 'data-funnel="delivered">2</span>' in last["html"]
    assert 'data-status="sent"' in last["html"]


def test_a_quiet_stream_sends_keep_alive_comments(
    web: DetailWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaign_detail_stream, "TICK_SECONDS", 0.01)
    monkeypatch.setattr(campaign_detail_stream, "HEARTBEAT_SECONDS", 0.03)
    campaign_id = web.launch()
    web.harness.settle()
    with web.client.stream("GET", f"/campaigns/{campaign_id}/progress/stream") as response:
        lines = response.iter_lines()
        seen = [next(lines) for _ in range(12)]
    assert seen[0] == "retry: 3000"
    assert sum(line.startswith("event: progress") for line in seen) == 1  # nothing changed
    assert ": still here" in seen


def test_the_last_event_says_when_the_campaign_finished(web: DetailWeb) -> None:
    campaign_id = web.launch()
    web.harness.settle()
    for journey_id in web.harness.journey_ids(campaign_id):
        web.status(journey_id, 0, DeliveryStatus.DELIVERED)
    web.harness.settle()
    with web.client.stream("GET", f"/campaigns/{campaign_id}/progress/stream") as response:
        events = read_events(response.iter_lines())
    html = json.loads(events[0][1])["html"]
    with web.harness.herald.sessions() as session:
        finished = web.harness.campaigns.get(session, campaign_id).completed_at
    assert finished is not None
    assert f'Finished <time datetime="{finished.isoformat()}">' in html
