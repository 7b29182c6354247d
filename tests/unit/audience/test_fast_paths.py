"""The fast paths agree with phonenumbers and email-validator on every input they accept."""

from __future__ import annotations

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from herald.domain.audience.email_address import check_email, normalize_plain_fast
from herald.domain.audience.phone_number import check_phone, parse_e164_fast, split_e164
from herald.domain.audience.phone_validity import is_valid_plain

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]


def example_numbers() -> list[str]:
    numbers = []
    for region in REGIONS:
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                numbers.append(phonenumbers.format_number(number, 0))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            numbers.append(phonenumbers.format_number(number, 0))
    return numbers


EXAMPLES = example_numbers()


def assert_phone_agrees(text: str, region: str) -> None:
    fast = parse_e164_fast(text)
    if fast is None:
        return
    library = phonenumbers.parse(text, region)
    assert fast == library
    parts = split_e164(text)
    assert parts is not None
    assert is_valid_plain(*parts) == phonenumbers.is_valid_number(library)
    expected = phonenumbers.format_number(library, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.is_valid_number(library):
        assert check_phone(text, region).e164 == expected
    else:
        assert check_phone(text, region).e164 is None


def test_every_example_number_of_the_metadata_agrees() -> None:
    assert len(EXAMPLES) > 1000
    accepted = 0
    for text in EXAMPLES:
        accepted += parse_e164_fast(text) is not None
        assert_phone_agrees(text, "US")
    assert accepted > 0.8 * len(EXAMPLES)  # the fast path is the common path


@st.composite
def plus_numbers(draw: st.DrawFn) -> str:
    """E.164-like text: example numbers with digits changed, added or removed,
    random digit strings, grouped with spaces or hyphens."""
    if draw(st.booleans()):
        digits = list(draw(st.sampled_from(EXAMPLES))[1:])
        for _ in range(draw(st.integers(0, 3))):
            position = draw(st.integers(0, len(digits) - 1))
            action = draw(st.sampled_from(["change", "insert", "delete"]))
            digit = draw(st.sampled_from("0123456789"))
            if action == "change":
                digits[position] = digit
            elif action == "insert":
                digits.insert(position, digit)
            elif len(digits) > 1:
                del digits[position]
    else:
        digits = list(draw(st.text("0123456789", min_size=1, max_size=17)))
    separators = draw(st.lists(st.sampled_from(["", "", "", " ", "-", "  ", "."]), min_size=17))
    return "+" + "".join(d + s for d, s in zip(digits, separators, strict=False)).rstrip(" -.")


@settings(max_examples=300)
@given(plus_numbers(), st.sampled_from(["US", "GB", "DE", "IN", "BR", "FR", "AU"]))
@example("+440207183875", "GB")  # national prefix after the country code
@example("+39 06 698 80000", "IT")  # Italian leading zero
@example("+1 800 555 0100", "US")
def test_fast_phone_path_agrees_with_phonenumbers(text: str, region: str) -> None:
    assert_phone_agrees(text, region)


@given(st.text(max_size=20))
def test_fast_phone_path_agrees_on_arbitrary_text(text: str) -> None:
    assert_phone_agrees(text, "US")


ATEXT = "abcxyzABCXYZ0189!#$%&'*+/=?^_`{|}~-"


@st.composite
def addresses(draw: st.DrawFn) -> str:
    local = draw(st.text(ATEXT + ".", min_size=1, max_size=20))
    labels = draw(st.lists(st.text("abcXYZ019-", min_size=1, max_size=10), min_size=1, max_size=4))
    tld = draw(st.sampled_from(["com", "org", "c", "CO", "example", "test", "local", "x1", "ab-c"]))
    if draw(st.booleans()):
        local = draw(st.sampled_from(["Info", "postmaster", "SALES", "abuse"]))
    return f"{local}@{'.'.join([*labels, tld])}"


def assert_email_agrees(text: str) -> None:
    fast = normalize_plain_fast(text)
    if fast is None:
        return
    try:
        validated = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        pytest.fail(f"fast path accepted {text!r}, the library says: {exc}")
    assert fast == validated.normalized
    assert check_email(text).normalized == validated.normalized


@settings(max_examples=300)
@given(addresses())
@example("a@xn--bcher-kva.com")
@example("a@ab--cd.com")
@example("a" * 64 + "@" + "b" * 63 + ".com")
@example("a@" + ("b" * 62 + ".") * 4 + "com")
def test_fast_email_path_agrees_with_email_validator(text: str) -> None:
    assert_email_agrees(text)


@given(st.emails() | st.text(max_size=40))
def test_fast_email_path_agrees_on_generated_addresses(text: str) -> None:
    assert_email_agrees(text)
