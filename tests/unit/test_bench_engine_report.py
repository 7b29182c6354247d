"""The engine benchmark's arithmetic and its section of docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

from bench.engine import END, START, Run, describe, percentiles, write_section


def _run(**overrides: object) -> Run:
    values: dict[str, object] = {
        "backend": "postgresql",
        "workers": 2,
        "latency_ms": 100,
        "contacts": 100_000,
        "messages": 220_000,
        "seconds_to_last_send": 200.0,
        "seconds_to_sent": 220.0,
        "transitions": 660_000,
        "primary": (40.0, 90.0),
        "follow_up": (0.1, 0.9),
        "peak_rss": 200 * 2**20,
        "total_rss": 500 * 2**20,
        "herald_cpu": 440.0,
        "sandbox_cpu": 110.0,
        "ceiling": 2_200.0,
        "load": 3.0,
        "status": "sent",
    }
    return Run(**(values | overrides))  # type: ignore[arg-type]


def test_rates_come_from_the_counts_and_the_elapsed_time() -> None:
    run = _run()
    assert run.rate == 1_100
    assert run.transition_rate == 3_000
    row = describe(run)
    assert "| **1,100** | 2,200 | **50%** | 3,000 |" in row
    assert "| 3,000 | 100 / 900 ms | 40 / 90 s | 200 / 500 MB | 2.0 / 0.5 ms |" in row


def test_percentiles_of_one_hundred_values() -> None:
    assert percentiles([float(v) for v in range(1, 101)]) == (50.5, 99.99)
    assert percentiles([]) == (0.0, 0.0)
    assert percentiles([3.0]) == (3.0, 3.0)


def test_rerun_replaces_only_its_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{START}\nold\n{END}\n\nanalysis kept\n")
    write_section("new table", doc)
    assert doc.read_text() == f"# Benchmarks\n\n{START}\nnew table\n{END}\n\nanalysis kept\n"
