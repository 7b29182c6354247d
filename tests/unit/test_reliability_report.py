"""The figures page: a run's figures merge into the stored ones and render as tables."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reliability.report import END, START, write

PAGE = f"# Reliability\n\nintro\n\n{START}\nold table\n{END}\n\n## After\n"


def test_a_quick_run_keeps_the_full_figures_and_renders_both(tmp_path: Path) -> None:
    doc = tmp_path / "reliability.md"
    doc.write_text(PAGE)
    (tmp_path / "reliability-figures.json").write_text(
        json.dumps({"full": {"webhook_storm": {"contacts": 2000, "steps_delivered_twice": 0}}})
    )
    run = tmp_path / "run.json"
    run.write_text(
        json.dumps({"quick": {"provider_down": {"contacts": 120, "outcomes": {"delivered": 115}}}})
    )
    write(run, doc)
    text = doc.read_text()
    assert "old table" not in text
    assert text.startswith("# Reliability\n\nintro\n\n") and text.endswith("## After\n")
    assert "### Quick run" in text and "### Full run" in text
    assert "| `provider_down` |" in text and "outcomes: delivered 115" in text
    assert "| `webhook_storm` |" in text and "contacts: 2000" in text
    stored = json.loads((tmp_path / "reliability-figures.json").read_text())
    assert set(stored) == {"quick", "full"}
    assert "_run" in stored["quick"]
