"""The compact duplicate index behaves like a dictionary of first rows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.audience import duplicates
from herald.domain.audience.duplicates import DuplicateIndex

phones = st.integers(1_000_000, 999_999_999_999_999).map(lambda n: f"+{n}")
emails = st.text("abcé.@x", min_size=1, max_size=8)


@given(st.lists(st.tuples(st.none() | phones, st.none() | emails), max_size=300))
def test_index_matches_a_dictionary_model(rows: list[tuple[str | None, str | None]]) -> None:
    index = DuplicateIndex()
    first_phone: dict[str, int] = {}
    first_email: dict[str, int] = {}
    for row, (phone, email) in enumerate(rows, start=2):
        expected = (
            None if phone is None else first_phone.get(phone),
            None if email is None else first_email.get(email),
        )
        assert index.find(phone, email) == expected
        if expected == (None, None):
            index.add(row, phone, email)
            if phone is not None:
                first_phone[phone] = row
            if email is not None:
                first_email[email] = row


def test_growth_keeps_every_entry() -> None:
    index = DuplicateIndex()
    for row in range(20_000):
        index.add(row + 2, f"+1202{row:07d}", f"user{row}@example.com")
    assert len(index) == 40_000
    assert index.find("+12020000000", "user19999@example.com") == (2, 20_001)
    assert index.find("+12029999999", "nobody@example.com") == (None, None)


def test_emails_with_the_same_hash_are_still_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duplicates, "_email_hash", lambda key: 42)
    index = DuplicateIndex()
    index.add(2, None, "a@example.com")
    index.add(3, None, "b@example.com")
    index.add(4, None, "a@example.co")
    assert index.find(None, "b@example.com") == (None, 3)
    assert index.find(None, "a@example.co") == (None, 4)
    assert index.find(None, "a@example.c") == (None, None)
