"""The compact duplicate index behaves like a dictionary of first rows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.audience import duplicates
from herald.domain.audience.duplicates import DuplicateIndex

phones = st.integers(1_000_000, 999_999_999_999_999).map(lambda n: f"+{n}")
emails = st.text("abcé.@x", min_size=1, max_size=8)


@given(
    st.lists(st.tuples(st.none() | phones, st.none() | emails), max_size=300),
    st.sampled_from([0, 10, 100_000]),
)
def test_index_matches_a_dictionary_model(
    rows: list[tuple[str | None, str | None]], expected_rows: int
) -> None:
    index = DuplicateIndex(expected_rows)
    first_phone: dict[str, int] = {}
    first_email: dict[str, int] = {}
    for row, (phone, email) in enumerate(rows, start=2):
        expected = (
            None if phone is None else first_phone.get(phone),
            None if email is None else first_email.get(email),
        )
        assert index.claim(row, phone, email) == expected
        if expected == (None, None):
            if phone is not None:
                first_phone[phone] = row
            if email is not None:
                first_email[email] = row
    assert len(index) == len(first_phone) + len(first_email)


def test_growth_keeps_every_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duplicates, "INITIAL_SLOTS", 16)
    index = DuplicateIndex()
    for row in range(5_000):
        assert index.claim(row + 2, f"+1202{row:07d}", f"user{row}@example.com") == (None, None)
    assert len(index) == 10_000
    assert index.claim(9, "+12020000000", "user4999@example.com") == (2, 5_001)
    assert index.claim(9, "+12029999999", "nobody@example.com") == (None, None)


def test_emails_with_the_same_hash_are_still_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duplicates, "_email_hash", lambda key: 42)
    index = DuplicateIndex()
    for row, email in enumerate(["a@example.com", "b@example.com", "a@example.co"], start=2):
        assert index.claim(row, None, email) == (None, None)
    assert index.claim(9, None, "b@example.com") == (None, 3)
    assert index.claim(9, None, "a@example.co") == (None, 4)
    assert index.claim(9, None, "a@example.c") == (None, None)


@given(
    st.lists(st.tuples(st.none() | phones, st.none() | emails, st.booleans()), max_size=300),
    st.integers(1, 50),
)
def test_claiming_by_batch_is_claiming_row_by_row(
    rows: list[tuple[str | None, str | None, bool]], batch_size: int
) -> None:
    one_by_one, by_batch = DuplicateIndex(), DuplicateIndex()
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        numbers = list(range(start + 2, start + 2 + len(batch)))
        skip = {position for position, (_, _, skipped) in enumerate(batch) if skipped}
        expected = []
        for position, (row, (phone, email, skipped)) in enumerate(zip(numbers, batch, strict=True)):
            if not skipped:
                phone_row, email_row = one_by_one.claim(row, phone, email)
                if (phone_row, email_row) != (None, None):
                    expected.append((position, phone_row, email_row))
        repeats = by_batch.claim_batch(
            numbers, [p or "" for p, _, _ in batch], [e or "" for _, e, _ in batch], skip
        )
        assert [tuple(repeat) for repeat in repeats] == expected
    assert len(by_batch) == len(one_by_one)


def test_claiming_by_batch_follows_the_tables_as_they_grow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(duplicates, "INITIAL_SLOTS", 16)
    index = DuplicateIndex()
    rows = list(range(2, 5_002))
    phones = [f"+1202{row:07d}" for row in rows]
    keys = [f"user{row}@example.com" for row in rows]
    assert index.claim_batch(rows, phones, keys, set()) == []
    assert len(index) == 10_000
    again = index.claim_batch([9, 10], [phones[0], ""], ["", keys[-1]], set())
    assert [tuple(repeat) for repeat in again] == [(0, 2, None), (1, None, 5_001)]
