"""SMS encoding and segment counting, as carriers bill it.

A text made only of GSM 03.38 characters travels as GSM-7: 160 septets in a
single message, 153 per part once it must be split (each part carries a
7-septet concatenation header). Characters of the GSM extension table
(``€ [ ] { } \\ ^ ~ |`` and form feed) take two septets: an escape plus the
character. One character outside GSM 03.38 switches the whole message to
UCS-2 (UTF-16): 70 units single, 67 per part, and a character outside the
Basic Multilingual Plane (most emoji) takes two units, a surrogate pair.

When splitting, an escape sequence or a surrogate pair is never cut in two:
it moves whole to the next part, as handsets and gateways do. So a long text
can need one part more than ``ceil(units / 153)``.

An empty text is measured as zero segments: nothing would be sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE_SEPTETS = 160
GSM7_PART_SEPTETS = 153
UCS2_SINGLE_UNITS = 70
UCS2_PART_UNITS = 67


class SmsEncoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True, slots=True)
class SmsMeasure:
    """How a text travels as SMS.

    ``units`` are septets for GSM-7 and UTF-16 code units for UCS-2;
    ``unit_limit`` is the capacity of one segment of this message (160 or
    153, 70 or 67); ``units_left`` is the room left in its last segment.
    ``ucs2_characters`` lists, once each and in order of appearance, the
    characters that forced UCS-2 (empty for GSM-7).
    """

    encoding: SmsEncoding
    characters: int
    units: int
    segments: int
    unit_limit: int
    units_left: int
    ucs2_characters: tuple[str, ...]


def gsm7_septets(char: str) -> int | None:
    """Septets ``char`` takes in GSM-7, or None if GSM-7 cannot carry it."""
    if char in GSM7_BASIC:
        return 1
    if char in GSM7_EXTENSION:
        return 2
    return None


def non_gsm7_characters(text: str) -> tuple[str, ...]:
    """Characters of ``text`` that GSM-7 cannot carry, once each, in order."""
    return tuple(dict.fromkeys(char for char in text if gsm7_septets(char) is None))


def measure_sms(text: str) -> SmsMeasure:
    """Encoding, size and segment count of ``text`` sent as one SMS."""
    if GSM7_BASIC.issuperset(text):
        # The common case: one septet per character, nothing to keep whole.
        return _measure(SmsEncoding.GSM7, len(text), [1] * len(text), ())
    forcing = non_gsm7_characters(text)
    if forcing:
        sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
        return _measure(SmsEncoding.UCS2, len(text), sizes, forcing)
    sizes = [gsm7_septets(char) or 0 for char in text]
    return _measure(SmsEncoding.GSM7, len(text), sizes, ())


def _measure(
    encoding: SmsEncoding, characters: int, sizes: list[int], forcing: tuple[str, ...]
) -> SmsMeasure:
    if encoding is SmsEncoding.GSM7:
        single, part = GSM7_SINGLE_SEPTETS, GSM7_PART_SEPTETS
    else:
        single, part = UCS2_SINGLE_UNITS, UCS2_PART_UNITS
    units = sum(sizes)
    if units <= single:
        segments = 1 if units else 0
        return SmsMeasure(encoding, characters, units, segments, single, single - units, forcing)
    segments, used = _pack(sizes, part)
    return SmsMeasure(encoding, characters, units, segments, part, part - used, forcing)


def _pack(sizes: list[int], capacity: int) -> tuple[int, int]:
    """Greedy fill of parts of ``capacity`` units: (parts, units in the last part)."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > capacity:
            parts += 1
            used = 0
        used += size
    return parts, used
