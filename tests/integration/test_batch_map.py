"""The process map keeps order, stays lazy and survives an early stop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from herald.services.batch_map import ProcessMap, resolve_workers


def square_all(batch: list[int]) -> list[int]:
    return [n * n for n in batch]


def fail_on_three(batch: list[int]) -> list[int]:
    if 3 in batch:
        raise ValueError("three")
    return batch


def test_results_come_back_in_order_through_worker_processes() -> None:
    batches = [[n, n + 1] for n in range(0, 40, 2)]
    mapped = ProcessMap(2, in_process_batches=1)
    assert list(mapped(square_all, batches)) == [square_all(batch) for batch in batches]


def test_batches_are_pulled_lazily() -> None:
    pulled: list[int] = []

    def batches() -> Iterator[list[int]]:
        for n in range(1000):
            pulled.append(n)
            yield [n]

    results = ProcessMap(2, in_process_batches=0)(square_all, batches())
    assert next(results) == [0]
    assert len(pulled) <= 5  # two workers, two batches each in flight, plus one
    results.close()


def test_a_worker_error_reaches_the_caller() -> None:
    with pytest.raises(ValueError, match="three"):
        list(ProcessMap(2, in_process_batches=0)(fail_on_three, [[1], [2], [3], [4]]))


def test_small_inputs_never_start_processes() -> None:
    assert list(ProcessMap(2)(lambda batch: batch, [[1], [2]])) == [[1], [2]]


def test_zero_workers_means_one_per_core() -> None:
    assert resolve_workers(0) >= 1
    assert resolve_workers(3) == 3
