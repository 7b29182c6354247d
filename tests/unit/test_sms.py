from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.sms import GSM7_BASIC, GSM7_EXTENSION, SmsEncoding, measure_sms

BASIC = sorted(GSM7_BASIC)


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("", 0, 0),
        ("a", 1, 1),
        ("a" * 160, 160, 1),
        ("a" * 161, 161, 2),
        ("a" * 306, 306, 2),
        ("a" * 307, 307, 3),
        ("a" * 459, 459, 3),
        ("a" * 460, 460, 4),
        ("€" * 80, 160, 1),
        ("€" * 80 + "a", 161, 2),
        ("a" * 159 + "€", 161, 2),
        ("{[~]}^|\\\f€", 20, 1),
    ],
)
def test_gsm7_sizes(text: str, units: int, segments: int) -> None:
    measure = measure_sms(text)
    assert measure.encoding is SmsEncoding.GSM7
    assert (measure.units, measure.segments) == (units, segments)
    assert measure.ucs2_characters == ()


def test_an_escape_sequence_is_never_split_across_parts() -> None:
    # 152 septets, then "€" (2) does not fit the 153 of part one and moves whole.
    text = "a" * 152 + "€" + "a" * 152
    measure = measure_sms(text)
    assert measure.units == 306
    assert math.ceil(306 / 153) == 2
    assert measure.segments == 3
    assert measure.units_left == 152


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("ж" * 70, 70, 1),
        ("ж" * 71, 71, 2),
        ("ж" * 134, 134, 2),
        ("ж" * 135, 135, 3),
        ("😀" * 35, 70, 1),
        ("😀" * 35 + "a", 71, 2),
        ("a" * 69 + "😀", 71, 2),
    ],
)
def test_ucs2_sizes(text: str, units: int, segments: int) -> None:
    measure = measure_sms(text)
    assert measure.encoding is SmsEncoding.UCS2
    assert (measure.units, measure.segments) == (units, segments)


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    text = "a" * 66 + "😀" + "a" * 66
    measure = measure_sms(text)
    assert measure.units == 134
    assert measure.segments == 3


def test_one_character_outside_gsm_switches_the_whole_text_and_is_named() -> None:
    measure = measure_sms("Hello Zoë, ça va? 👋 Zoë")
    assert measure.encoding is SmsEncoding.UCS2
    assert measure.ucs2_characters == ("ë", "ç", "👋")
    assert measure.characters == 23
    assert measure.units == 24


@pytest.mark.parametrize("char", ["é", "è", "Ä", "ñ", "ß", "Δ", "¿", "\n", "@", "£", "¥", "§"])
def test_gsm_accented_and_greek_letters_stay_gsm7(char: str) -> None:
    assert measure_sms(char * 10).encoding is SmsEncoding.GSM7


@pytest.mark.parametrize("char", ["ç", "á", "ê", "’", "“", "—", "\t", "\x1b"])
def test_look_alikes_outside_gsm_force_ucs2(char: str) -> None:
    assert measure_sms(f"a{char}b").ucs2_characters == (char,)


def test_capacity_and_room_left() -> None:
    assert (measure_sms("a" * 10).unit_limit, measure_sms("a" * 10).units_left) == (160, 150)
    assert (measure_sms("a" * 200).unit_limit, measure_sms("a" * 200).units_left) == (153, 106)
    assert (measure_sms("ж" * 80).unit_limit, measure_sms("ж" * 80).units_left) == (67, 54)


@given(st.lists(st.sampled_from(BASIC), max_size=700))
def test_basic_gsm_texts_follow_the_simple_formula(chars: list[str]) -> None:
    text = "".join(chars)
    measure = measure_sms(text)
    assert measure.units == len(text)
    expected = 0 if not text else 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert measure.segments == expected


@given(st.text(alphabet=[*sorted(GSM7_BASIC | GSM7_EXTENSION), "ж", "😀"], max_size=700))
def test_parts_hold_every_unit_and_never_overflow(text: str) -> None:
    measure = measure_sms(text)
    if measure.segments > 1:
        capacity = measure.unit_limit * measure.segments
        assert measure.units <= capacity
        # Whole characters moved forward waste at most one unit per part boundary.
        assert measure.units > capacity - measure.unit_limit - measure.segments
    assert 0 <= measure.units_left <= measure.unit_limit
