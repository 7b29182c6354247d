"""Batches and verdicts survive their compact form exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from herald.domain.audience.batches import Batch, BatchVerdicts
from herald.domain.audience.problems import Problem, ProblemCode, Severity
from herald.domain.audience.reader import RawRecord

CELL = st.text(st.characters(blacklist_characters="\x00"), max_size=6)


@given(st.lists(st.tuples(st.lists(CELL, max_size=4), st.none() | st.just("broken"))))
def test_batch_gives_back_every_record(records: list[tuple[list[str], str | None]]) -> None:
    raw = [RawRecord(row + 2, fields, "", error) for row, (fields, error) in enumerate(records)]
    batch = Batch.of(raw)
    assert list(batch.records()) == [(r.row, r.fields, r.quote_error) for r in raw]


@given(st.lists(st.tuples(st.text("+0123456789", max_size=8), st.text("a@b.c", max_size=8))))
def test_verdicts_give_back_every_value(values: list[tuple[str, str]]) -> None:
    problem = Problem(2, None, ProblemCode.NO_CONTACT, Severity.ERROR, "none")
    phones, emails = [p for p, _ in values], [e for _, e in values]
    verdicts = BatchVerdicts.of(phones, emails, {0: (problem,)}, {0})
    if values:
        assert verdicts.columns() == (phones, emails)
    assert (verdicts.problems, verdicts.rejected) == ({0: (problem,)}, {0})
