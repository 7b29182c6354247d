"""The channel benchmark's report lands between its markers and nowhere else."""

from __future__ import annotations

from pathlib import Path

from bench.channel_throughput import END, INTRO, START, Measurement, render, write


def _section(rate: float) -> str:
    return render([Measurement("WhatsApp", 100, 200, rate, 2 * rate, 410, 300)], 2.0, 3)


def test_report_shows_rates_and_ratio() -> None:
    section = _section(900)
    assert section.startswith(START) and section.rstrip().endswith(END)
    assert "| WhatsApp | 100 ms | 200 | 900 | 1,800 | 0.50 | 410 µs | 300 µs |" in section
    assert "python -m bench.channel_throughput" in section


def test_missing_file_is_created_with_an_intro(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "benchmarks.md"
    write(_section(900), doc)
    text = doc.read_text()
    assert text.startswith(INTRO)
    assert text.count(START) == 1


def test_rerun_replaces_only_its_own_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n\n" + _section(900) + "\n## Other figures\n\nkept\n")
    write(_section(700), doc)
    text = doc.read_text()
    assert "| 700 |" in text and "| 900 |" not in text
    assert text.count(START) == 1 and text.count(END) == 1
    assert text.startswith("# Benchmarks\n\nintro\n")
    assert text.endswith("## Other figures\n\nkept\n")


def test_section_is_appended_to_a_file_without_markers(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Engine\n\nfigures\n")
    write(_section(900), doc)
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\n## Engine\n\nfigures\n\n" + START)
