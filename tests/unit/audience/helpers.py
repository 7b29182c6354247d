"""Running the audience check on bytes, for tests."""

from __future__ import annotations

from collections.abc import Iterable

from herald.domain.audience.pipeline import AudienceCheck, RowOutcome
from herald.domain.audience.problems import Problem


def check_bytes(
    data: bytes | Iterable[bytes], region: str = "US"
) -> tuple[AudienceCheck, list[RowOutcome]]:
    chunks = [data] if isinstance(data, bytes) else data
    check = AudienceCheck(chunks, default_region=region)
    return check, list(check.outcomes())


def flagged(outcomes: list[RowOutcome]) -> list[tuple[int | None, str | None, str, str]]:
    """(row, column, code, severity) of every problem, in order."""
    problems: list[Problem] = [p for outcome in outcomes for p in outcome.problems]
    return [(p.row, p.column, str(p.code), str(p.severity)) for p in problems]
