"""The web load benchmark at a tiny size, so its machinery cannot rot unnoticed.

A real ``herald serve`` and sandbox process, signed-in browsers, an API
client and a live-progress stream, against a small campaign: no request
fails, every endpoint of the mix is visited in both measured phases, the
stream delivers events, and the campaign sends while it is measured.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.web_load import END, HEADING, MIX, START, STREAM, LoadConfig, render, run, write

pytestmark = pytest.mark.slow


def test_tiny_run_hits_every_endpoint_without_errors(database_url: str, tmp_path: Path) -> None:
    config = LoadConfig(
        contacts=200,
        users=3,
        seconds=3.0,
        database_url=database_url,
        provider_latency_ms=50,
        think_seconds=(0.01, 0.05),
    )

    report = run(config)

    for phase in (report.idle, report.loaded):
        failed = {
            name: samples.first_error
            for name, samples in phase.per_endpoint.items()
            if samples.errors
        }
        assert failed == {}
        missed = [
            endpoint.name for endpoint in MIX if phase.per_endpoint[endpoint.name].requests == 0
        ]
        assert missed == []
        assert phase.per_endpoint[STREAM].latencies, "the progress stream sent no event"
        assert phase.stream_events >= 1
    assert report.quiet_rates[0] > 0, "the campaign sent nothing after its launch"
    assert report.database in database_url

    doc = tmp_path / "reliability.md"
    write(render(report), report.database, doc)
    text = doc.read_text()
    assert HEADING in text and text.count(START) == 1 and text.count(END) == 1
    assert "| page /campaigns/{id}/logs |" in text and "| api progress |" in text
