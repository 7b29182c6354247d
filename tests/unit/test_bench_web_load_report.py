"""The web load report: percentiles, and one block per database between its markers."""

from __future__ import annotations

from pathlib import Path

from bench.web_load import (
    END,
    HEADING,
    MIX,
    START,
    STREAM,
    LoadConfig,
    PhaseResult,
    Report,
    Samples,
    render,
    write,
)


def _phase(milliseconds: float, errors: int = 0) -> PhaseResult:
    per_endpoint = {name: Samples() for name in [endpoint.name for endpoint in MIX] + [STREAM]}
    for samples in per_endpoint.values():
        samples.latencies = [milliseconds / 1000] * 99 + [10 * milliseconds / 1000]
    per_endpoint["api progress"].errors = errors
    return PhaseResult(seconds=10.0, per_endpoint=per_endpoint, stream_events=4)


def _report(database: str) -> Report:
    return Report(
        config=LoadConfig(contacts=1000, users=5, seconds=10),
        database=database,
        idle=_phase(10),
        loaded=_phase(20, errors=2),
        quiet_rates=(40.0, 44.0),
        load_average=(1.5, 1.0, 0.5),
        completed_at_end=300,
        campaign_status="running",
    )


def test_percentiles_take_the_sorted_rank() -> None:
    samples = Samples(latencies=[i / 1000 for i in range(1, 101)])
    assert samples.percentile(0.5) == 0.051
    assert samples.percentile(0.99) == 0.1
    assert Samples().percentile(0.99) == 0.0


def test_report_shows_latencies_ratios_errors_and_send_rates() -> None:
    text = render(_report("sqlite"))
    # p50 20, p95 20, p99 200 (the slow hundredth request); idle p99 100.
    assert "| api progress | 100 / 102 | 2 | 20 | 20 | **200** | 100 | 2.0x |" in text
    assert "during/quiet: 0.0x" in text  # no sends recorded during the load
    assert "40.0 before and 44.0 after" in text
    assert "1.50, 1.00, 0.50" in text


def test_each_database_keeps_its_own_block(tmp_path: Path) -> None:
    doc = tmp_path / "reliability.md"
    doc.write_text("# Reliability\n\nFault cases.\n")
    write(render(_report("sqlite")), "sqlite", doc)
    write(render(_report("postgresql")), "postgresql", doc)
    write(render(_report("sqlite")), "sqlite", doc)
    text = doc.read_text()
    assert text.startswith("# Reliability\n\nFault cases.\n")
    assert text.count(HEADING) == 1 and text.count(START) == 1 and text.count(END) == 1
    assert text.count("**sqlite** — ") == 1 and text.count("**postgresql** — ") == 1


def test_a_missing_file_gets_just_the_section(tmp_path: Path) -> None:
    doc = tmp_path / "reliability.md"
    write(render(_report("sqlite")), "sqlite", doc)
    text = doc.read_text()
    assert HEADING in text and "python -m bench.web_load --write" in text
