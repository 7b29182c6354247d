"""``phonenumbers.is_valid_number``, computed faster for numbers without leading zeros.

The library decides validity with about a dozen Python-level regular
expression calls per number, more for calling codes shared by several
regions (+1, +44, +7...). This module asks the same question of the same
metadata with one regular expression per (region, number length), built on
first use:

* a number is valid for a region when it matches the region's general
  pattern and at least one number-type pattern (premium rate, toll free,
  shared cost, VoIP, personal, pager, UAN, voicemail, fixed line, and mobile
  unless the metadata says mobile and fixed line share a pattern), each
  pattern counting only when the number's length is one of its possible
  lengths;
* for a calling code shared by several regions, the region is the first in
  the library's list whose leading digits match or, for regions without
  leading digits, for which the number is valid.

That is the library's own rule, read from ``phonenumbers.phonenumberutil``;
``tests/unit/audience/test_fast_paths.py`` checks with Hypothesis and with
every example number of the metadata that the two always agree.
"""

from __future__ import annotations

import re

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata
from phonenumbers.phonemetadata import PhoneNumberDesc

_NO_MATCH = re.compile(r"(?!)")


class _RegionRules:
    """Validity for one region's metadata, one compiled pattern per number length."""

    def __init__(self, metadata: PhoneMetadata) -> None:
        self._general = metadata.general_desc
        descs = [
            metadata.premium_rate,
            metadata.toll_free,
            metadata.shared_cost,
            metadata.voip,
            metadata.personal_number,
            metadata.pager,
            metadata.uan,
            metadata.voicemail,
            metadata.fixed_line,
        ]
        if not metadata.same_mobile_and_fixed_line_pattern:
            descs.append(metadata.mobile)
        self._types = [desc for desc in descs if desc is not None]
        self._by_length: dict[int, re.Pattern[str]] = {}

    def accepts(self, national: str) -> bool:
        pattern = self._by_length.get(len(national))
        if pattern is None:
            pattern = self._by_length[len(national)] = self._compile(len(national))
        return pattern.fullmatch(national) is not None

    def _compile(self, length: int) -> re.Pattern[str]:
        if not _applies(self._general, length):
            return _NO_MATCH
        alternatives = [
            desc.national_number_pattern for desc in self._types if _applies(desc, length)
        ]
        if not alternatives:
            return _NO_MATCH
        general = self._general.national_number_pattern  # type: ignore[union-attr]
        union = "|".join(f"(?:{pattern})" for pattern in alternatives)
        return re.compile(f"(?=(?:{general})\\Z)(?:{union})")


def _applies(desc: PhoneNumberDesc | None, length: int) -> bool:
    """Whether ``desc`` can match a national number of ``length`` digits."""
    if desc is None or not desc.national_number_pattern:
        return False
    return not desc.possible_length or length in desc.possible_length


_RULES: dict[tuple[int, str], _RegionRules | None] = {}
_LEADING_DIGITS: dict[str, re.Pattern[str] | None] = {}


def _rules(country_code: int, region: str) -> _RegionRules | None:
    key = (country_code, region)
    if key not in _RULES:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        _RULES[key] = None if metadata is None else _RegionRules(metadata)
    return _RULES[key]


def _leading_digits(region: str) -> re.Pattern[str] | None:
    if region not in _LEADING_DIGITS:
        metadata = PhoneMetadata.metadata_for_region(region, None)
        pattern = None if metadata is None else metadata.leading_digits
        _LEADING_DIGITS[region] = None if pattern is None else re.compile(pattern)
    return _LEADING_DIGITS[region]


def _region_from_list(country_code: int, regions: tuple[str, ...], national: str) -> str | None:
    for region in regions:
        if PhoneMetadata.metadata_for_region(region, None) is None:
            continue
        leading = _leading_digits(region)
        if leading is not None:
            if leading.match(national):
                return region
            continue
        rules = _rules(country_code, region)
        if rules is not None and rules.accepts(national):
            return region
    return None


def is_valid_plain(country_code: int, national: str) -> bool:
    """``phonenumbers.is_valid_number`` for the number ``+<country_code><national>``
    whose national significant number ``national`` has no leading zero."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if regions is None:
        return False
    if len(regions) == 1:
        region: str | None = regions[0]
    else:
        region = _region_from_list(country_code, regions, national)
    if region is None:
        return False
    rules = _rules(country_code, region)
    return rules is not None and rules.accepts(national)
