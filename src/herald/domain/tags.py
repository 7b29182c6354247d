"""Campaign tags: the one derived from the name, and the ones users add.

A tag is a short slug that labels every conversation of a campaign, for
reporting and for routing replies. Tags share one alphabet so they can be
typed on a command line, put in a URL and compared without surprises:
lowercase ASCII letters and digits in runs joined by single hyphens
(``spring-check-ups-2025``), at most :data:`TAG_MAX_LENGTH` characters.

The derived tag is fixed when the campaign is created (renaming the campaign
later does not change it) and is unique among existing tags through a
deterministic numeric suffix (``-2``, ``-3``...). A name with nothing
foldable to ASCII letters or digits (only emoji, or a non-Latin script)
derives :data:`FALLBACK_TAG` so that every campaign always has a usable tag;
the uniqueness suffix then tells such campaigns apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from herald.errors import ValidationError

TAG_MAX_LENGTH = 64
MAX_EXTRA_TAGS = 20
FALLBACK_TAG = "campaign"

TAG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")

# Latin letters that Unicode decomposition leaves alone but that have a
# conventional ASCII spelling.
_LETTER_FOLDS = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
    }
)


def fold_to_ascii(text: str) -> str:
    """Lowercase ``text`` and fold accented Latin letters to plain ASCII.

    Compatibility decomposition (NFKD) splits "é" into "e" plus a combining
    accent and turns "①" or "ﬁ" into "1" and "fi"; the accents are then
    dropped. Characters with no ASCII counterpart are left for the caller
    to discard.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTER_FOLDS))
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return kept.lower()


def derive_tag(name: str) -> str:
    """The tag a campaign called ``name`` gets, before uniqueness.

    Idempotent: a valid tag derives itself. Never empty: see the module
    docstring for :data:`FALLBACK_TAG`.
    """
    slug = _NOT_ALPHANUMERIC.sub("-", fold_to_ascii(name)).strip("-")
    slug = _truncate(slug, TAG_MAX_LENGTH)
    return slug or FALLBACK_TAG


def unique_tag(base: str, existing: Iterable[str]) -> str:
    """``base`` itself if free, else ``base-2``, ``base-3``... the first free one.

    The stem is shortened when needed so the suffixed tag still fits
    :data:`TAG_MAX_LENGTH`.
    """
    taken = set(existing)
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = _truncate(base, TAG_MAX_LENGTH - len(suffix)) + suffix
        if candidate not in taken:
            return candidate
        number += 1


def derive_unique_tag(name: str, existing: Iterable[str]) -> str:
    """The derived tag of a new campaign called ``name``."""
    return unique_tag(derive_tag(name), existing)


def validate_tag(tag: str, *, field: str = "tags") -> str:
    """Return ``tag`` if it is a valid tag, else raise a ValidationError.

    User tags are not silently rewritten: the error proposes the derived
    spelling so the user sees what would be accepted.
    """
    if not tag:
        raise ValidationError("a tag cannot be empty", code="invalid_tag", field=field)
    if len(tag) > TAG_MAX_LENGTH:
        raise ValidationError(
            f"tag {tag!r} is {len(tag)} characters long; the limit is {TAG_MAX_LENGTH}",
            code="invalid_tag",
            field=field,
        )
    if TAG_PATTERN.fullmatch(tag) is None:
        raise ValidationError(
            f"tag {tag!r} may only contain lowercase letters a-z, digits and single "
            f"hyphens between them; try {derive_tag(tag)!r}",
            code="invalid_tag",
            field=field,
        )
    return tag


def validate_extra_tags(tags: Iterable[str], *, field: str = "tags") -> tuple[str, ...]:
    """Validate user tags; drop repeats, keeping the first occurrence's order."""
    result: list[str] = []
    for index, tag in enumerate(tags):
        validate_tag(tag, field=f"{field}[{index}]")
        if tag not in result:
            result.append(tag)
    if len(result) > MAX_EXTRA_TAGS:
        raise ValidationError(
            f"{len(result)} tags given; a campaign takes at most {MAX_EXTRA_TAGS} extra tags",
            code="too_many_tags",
            field=field,
        )
    return tuple(result)


def campaign_tags(derived: str, extra: Iterable[str]) -> tuple[str, ...]:
    """All tags of a campaign: the derived tag first, then the extra ones."""
    return (derived, *(tag for tag in validate_extra_tags(extra) if tag != derived))


def _truncate(slug: str, length: int) -> str:
    return slug[:length].rstrip("-")
