"""Fixtures of the fault and load suite: PostgreSQL only, sizes, the figures report.

The suite runs in two sizes. The quick one (default) is part of every test
run and of CI; ``HERALD_RELIABILITY=full`` (``scripts/reliability``) runs
the long one, with more contacts and longer outages. Each case records its
measured figures; with ``HERALD_RELIABILITY_REPORT=path.json`` they are
written there for ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _copy_postgres


@dataclass(frozen=True)
class Scale:
    """How big each case is."""

    name: str
    contacts: int
    outage_seconds: float
    workers: int
    webhook_callbacks: int

    @property
    def is_full(self) -> bool:
        return self.name == "full"


QUICK = Scale("quick", contacts=120, outage_seconds=3.0, workers=2, webhook_callbacks=500)
FULL = Scale("full", contacts=2_000, outage_seconds=20.0, workers=3, webhook_callbacks=20_000)


@pytest.fixture(scope="session")
def scale() -> Scale:
    return FULL if os.environ.get("HERALD_RELIABILITY") == "full" else QUICK


class Report:
    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}

    def add(self, case: str, figures: dict[str, Any]) -> None:
        self.cases[case] = figures


@pytest.fixture(scope="session")
def report(scale: Scale) -> Iterator[Report]:
    collected = Report()
    yield collected
    target = os.environ.get("HERALD_RELIABILITY_REPORT")
    if target and collected.cases:
        path = Path(target)
        existing = json.loads(path.read_text() or "{}") if path.exists() else {}
        existing.setdefault(scale.name, {}).update(collected.cases)
        path.write_text(json.dumps(existing, indent=2, sort_keys=True, default=str) + "\n")


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database (the scale-out setup the faults are about)."""
    admin_url, template = request.getfixturevalue("postgres_template")
    yield from _copy_postgres(admin_url, template)
