"""Phone cells: parsed and validated by ``phonenumbers``, normalised to E.164.

Numbers without a country code are read in the default region. A number
with an extension is valid; the extension is reported because WhatsApp, SMS
and calls cannot dial it.

Fast path: a cell that is already E.164 (``+`` then digits, possibly grouped
by single spaces or hyphens, no leading zero after the country code, no
national prefix) is turned into the very ``PhoneNumber`` that
``phonenumbers.parse`` would build, skipping the parser's general text
extraction, and its validity is decided by the equivalent of
``is_valid_number`` in :mod:`herald.domain.audience.phone_validity`.
Anything else takes the library's full path.
``tests/unit/audience/test_fast_paths.py`` checks with Hypothesis that the
fast path agrees with the library on every input it accepts.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumber, ValidationResult

from herald.domain.audience.phone_validity import is_valid_plain

_PLUS_DIGITS = re.compile(r"\+[1-9](?:[ -]?[0-9])+")
_GROUP_SEPARATORS = str.maketrans("", "", " -")
_LONGEST_GROUPED_E164 = 31  # "+" and 15 digits, each after a separator
_SEPARATORS = re.compile(r"\s*(?:[,;/|\n]|\bor\b)\s*", re.IGNORECASE)
_SCIENTIFIC = re.compile(r"[0-9](?:[.,][0-9]+)?E\+?[0-9]+", re.IGNORECASE)
_MIN_DIGITS_OF_A_NUMBER = 7

_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "its country code is not valid",
    NumberParseException.NOT_A_NUMBER: "it is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    NumberParseException.TOO_SHORT_NSN: "it is too short",
    NumberParseException.TOO_LONG: "it is too long",
}
_LENGTH_REASONS = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "the wrong length",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "missing its area code",
    ValidationResult.INVALID_COUNTRY_CODE: "using an unknown country code",
}


class PhoneCheck(NamedTuple):
    """``e164`` when valid; otherwise ``several`` lists the numbers of a cell
    holding more than one, or ``error`` says why the number is not valid."""

    e164: str | None
    extension: str | None = None
    error: str | None = None
    several: list[str] | None = None


_NATIONAL_PREFIXES: dict[int, re.Pattern[str] | None] = {}


def split_e164(text: str) -> tuple[int, str] | None:
    """(country code, national number) as ``phonenumbers.parse(text, region)`` reads
    them, for E.164 text (digit groups may be separated by one space or hyphen);
    ``None`` when ``text`` is not in the narrow shape handled here."""
    if len(text) > _LONGEST_GROUPED_E164 or not _PLUS_DIGITS.fullmatch(text):
        return None
    digits = text[1:].translate(_GROUP_SEPARATORS)
    if not 7 <= len(digits) <= 15:
        return None
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if len(national) < 2 or national[0] == "0":
        return None
    prefix = _national_prefix(country_code)
    if prefix is not None and prefix.match(national):
        return None
    return country_code, national


def parse_e164_fast(text: str) -> PhoneNumber | None:
    """:func:`split_e164` as the ``PhoneNumber`` the library would build."""
    parts = split_e164(text)
    if parts is None:
        return None
    return PhoneNumber(country_code=parts[0], national_number=int(parts[1]))


def _national_prefix(country_code: int) -> re.Pattern[str] | None:
    """The pattern ``parse`` would try to strip as a national prefix (cached per code)."""
    if country_code not in _NATIONAL_PREFIXES:
        region = phonenumbers.region_code_for_country_code(country_code)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        pattern = metadata.national_prefix_for_parsing if metadata else None
        _NATIONAL_PREFIXES[country_code] = re.compile(pattern) if pattern else None
    return _NATIONAL_PREFIXES[country_code]


def check_phone(text: str, region: str) -> PhoneCheck:
    """Validate one phone cell (already stripped, not empty).

    A cell holding several numbers is reported as such before the library
    sees it: parsing would quietly read the first and drop the others. (The
    fast path's narrow shape cannot hold two numbers.)
    """
    parts = split_e164(text)
    if parts is not None:
        country_code, national = parts
        if is_valid_plain(country_code, national):
            return PhoneCheck(f"+{country_code}{national}")
        number = PhoneNumber(country_code=country_code, national_number=int(national))
        return PhoneCheck(None, error=_invalid_message(text, number, region))
    several = split_phones(text)
    if several is not None:
        return PhoneCheck(None, several=several)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return PhoneCheck(None, error=_unparsable_message(text, exc, region))
    if not phonenumbers.is_valid_number(number):
        return PhoneCheck(None, error=_invalid_message(text, number, region))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneCheck(e164, number.extension or None)


def split_phones(text: str) -> list[str] | None:
    """The numbers in a cell holding several (``+44..., +33...``), else ``None``."""
    if _SEPARATORS.search(text) is None:
        return None
    parts = [part for part in _SEPARATORS.split(text) if part]
    numbers = [part for part in parts if _count_digits(part) >= _MIN_DIGITS_OF_A_NUMBER]
    return numbers if len(numbers) >= 2 else None


def looks_like_phone(text: str) -> bool:
    """Mostly digits and phone punctuation: for spotting values in the wrong column."""
    stripped = text.strip()
    return (
        _count_digits(stripped) >= _MIN_DIGITS_OF_A_NUMBER
        and "@" not in stripped
        and sum(c.isalpha() for c in stripped) <= 3
    )


def _count_digits(text: str) -> int:
    return sum(map(str.isdigit, text))


def _unparsable_message(text: str, exc: NumberParseException, region: str) -> str:
    reason = _PARSE_ERRORS.get(exc.error_type, "it cannot be read as a phone number")
    return f"'{text}' is not a valid phone number: {reason}{_hint(text, region)}."


def _invalid_message(text: str, number: PhoneNumber, region: str) -> str:
    code = number.country_code or 0
    # The calling code's main region: asking which region an invalid number
    # belongs to would try every region sharing the code, and find none.
    where = phonenumbers.region_code_for_country_code(code)
    reason = _LENGTH_REASONS.get(phonenumbers.is_possible_number_with_reason(number))
    if reason is None:
        detail = f"it matches no number range in use in {where} (+{code})"
    else:
        detail = f"it is {reason} for +{code} ({where})"
    return f"'{text}' is not a valid phone number: {detail}{_hint(text, region)}."


def _hint(text: str, region: str) -> str:
    if _SCIENTIFIC.fullmatch(text):
        return (
            "; a spreadsheet turned it into scientific notation: format the column as text "
            "and type the number again"
        )
    if not text.startswith(("+", "00")):
        return (
            f"; it has no country code, so it was read as a {region} number. Add the "
            "country code (+44...) or choose the right default region"
        )
    return ""
