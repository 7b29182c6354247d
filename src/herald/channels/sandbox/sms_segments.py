"""How many SMS parts a text needs: GSM-7 when every character allows, else UCS-2.

GSM 03.38: a single message holds 160 septets, a concatenated one 153 per
part (the rest is the user data header); characters of the extension table
take two septets. A text with any other character goes out as UCS-2: 70
UTF-16 code units, or 67 per part (emoji take two units).
"""

from __future__ import annotations

import math

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

MAX_PARTS = 25


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def count_segments(text: str) -> int:
    """Parts billed for ``text`` (at least one, even for an empty text)."""
    if is_gsm7(text):
        units = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        single, per_part = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, per_part = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / per_part)
