"""Text folding for matching what people type against keywords.

People answer "Arrêt", "ARRET", "arrêt " and "Ａｒｒｅｔ" (full width, from some
phone keyboards) and mean the same thing. :func:`fold` maps all of them onto
one comparison form: compatibility-decomposed (NFKD), combining marks removed,
a few letters that have no decomposition mapped by hand, case folded,
whitespace runs collapsed to one space and trimmed.

The folded form is for comparison only; it is never shown or stored as the
person's text.
"""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD leaves whole although readers treat them as accented forms.
_UNDECOMPOSABLE = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ı": "i",
        "ð": "d",
        "þ": "th",
    }
)
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = str.maketrans({"'": "", "’": "", "ʼ": "", "`": ""})


def fold(text: str) -> str:
    """Return the comparison form of ``text`` (see the module docstring)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WHITESPACE.sub(" ", stripped.casefold()).strip()


def words(text: str) -> tuple[str, ...]:
    """The folded words of ``text``: letters and digits, apostrophes dropped.

    Dropping apostrophes makes "can't", "can’t" and "cant" the same word, which
    is how people type them on phones.
    """
    return tuple(_WORD.findall(fold(text).translate(_APOSTROPHES)))
