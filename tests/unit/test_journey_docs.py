"""docs/journey.md explains every phase, event and outcome the machine knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.domain.journey_events import EVENT_TYPES
from herald.domain.journey_state import Outcome, Phase, StepStatus

DOC = (Path(__file__).parents[2] / "docs" / "journey.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("phase", list(Phase))
def test_every_phase_is_in_the_diagram(phase: Phase) -> None:
    diagram = DOC.split("```mermaid", 1)[1].split("```", 1)[0]
    assert phase.value in diagram


@pytest.mark.parametrize("name", [kind.__name__ for kind in EVENT_TYPES])
def test_every_event_has_an_edge_in_the_table(name: str) -> None:
    table = DOC.split("## Every edge", 1)[1].split("\n## ", 1)[0]
    assert f"`{name}" in table


@pytest.mark.parametrize("term", [*Outcome, *StepStatus])
def test_every_outcome_and_step_status_is_defined(term: str) -> None:
    assert f"`{term}`" in DOC
