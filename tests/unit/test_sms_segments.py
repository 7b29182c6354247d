"""SMS part counting in the sandbox: GSM-7 with its extension table, else UCS-2."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.channels.sandbox.sms_segments import GSM7_BASIC, count_segments, is_gsm7


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("ñ" * 160, 1),  # ñ is in the GSM-7 basic set
        ("ç" * 70, 1),  # ç is not (only Ç is): UCS-2
        ("ç" * 71, 2),
        ("😀" * 35, 1),  # two UTF-16 units each
        ("😀" * 36, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
    ],
)
def test_parts_follow_the_encoding(text: str, parts: int) -> None:
    assert count_segments(text) == parts


@given(st.text(alphabet=sorted(GSM7_BASIC), max_size=2000))
def test_basic_gsm_texts_need_one_part_per_153_characters(text: str) -> None:
    assert is_gsm7(text)
    expected = 1 if len(text) <= 160 else -(-len(text) // 153)
    assert count_segments(text) == expected


@given(st.text(max_size=500), st.text(max_size=500))
def test_more_text_never_needs_fewer_parts(head: str, tail: str) -> None:
    whole = count_segments(head + tail)
    if is_gsm7(head + tail) or not is_gsm7(head):
        assert whole >= count_segments(head)
