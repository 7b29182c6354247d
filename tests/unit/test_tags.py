from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.tags import (
    FALLBACK_TAG,
    MAX_EXTRA_TAGS,
    TAG_MAX_LENGTH,
    TAG_PATTERN,
    campaign_tags,
    derive_tag,
    derive_unique_tag,
    unique_tag,
    validate_extra_tags,
    validate_tag,
)
from herald.errors import ValidationError


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("Spring Check-ups 2025!", "spring-check-ups-2025"),
        ("Rappel de vaccination – Été", "rappel-de-vaccination-ete"),
        ("  --Leading and trailing--  ", "leading-and-trailing"),
        ("Straße & Café", "strasse-cafe"),
        ("Ærø Øresund Łódź", "aero-oresund-lodz"),
        ("ÇA VA? Ñandú", "ca-va-nandu"),
        ("İstanbul ılık", "istanbul-ilik"),
        ("ﬁnal ① offer", "final-1-offer"),
        ("already-a-tag", "already-a-tag"),
        ("multiple   spaces\tand\nbreaks", "multiple-spaces-and-breaks"),
        ("snake_case_name", "snake-case-name"),
        ("Привет мир 2025", "2025"),
    ],
)
def test_derive_tag(name: str, tag: str) -> None:
    assert derive_tag(name) == tag


@pytest.mark.parametrize("name", ["🎉🎉", "", "   ", "!!!", "Привет", "会议"])
def test_a_name_without_ascii_letters_gets_the_fallback_tag(name: str) -> None:
    assert derive_tag(name) == FALLBACK_TAG


def test_long_names_are_cut_at_a_word_boundary_without_a_trailing_hyphen() -> None:
    tag = derive_tag("a" * 63 + " b")
    assert tag == "a" * 63
    assert len(derive_tag("word " * 40)) <= TAG_MAX_LENGTH
    assert not derive_tag("word " * 40).endswith("-")


def test_unique_tag_adds_the_first_free_number() -> None:
    assert unique_tag("spring", []) == "spring"
    assert unique_tag("spring", ["spring"]) == "spring-2"
    assert unique_tag("spring", ["spring", "spring-2", "spring-3"]) == "spring-4"
    assert unique_tag("spring", ["spring", "spring-3"]) == "spring-2"


def test_unique_tag_keeps_the_limit_when_suffixing() -> None:
    base = "x" * TAG_MAX_LENGTH
    tag = unique_tag(base, [base])
    assert tag == "x" * (TAG_MAX_LENGTH - 2) + "-2"
    assert len(tag) == TAG_MAX_LENGTH


def test_emoji_only_campaigns_get_distinct_fallback_tags() -> None:
    first = derive_unique_tag("🎉", [])
    second = derive_unique_tag("🚀", [first])
    assert (first, second) == ("campaign", "campaign-2")


@pytest.mark.parametrize(
    ("tag", "fragment"),
    [
        ("", "cannot be empty"),
        ("VIP", "try 'vip'"),
        ("vip customers", "try 'vip-customers'"),
        ("double--hyphen", "single hyphens"),
        ("-leading", "single hyphens"),
        ("trailing-", "single hyphens"),
        ("café", "try 'cafe'"),
        ("x" * (TAG_MAX_LENGTH + 1), "the limit is 64"),
    ],
)
def test_validate_tag_refuses_with_a_clear_message(tag: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment) as caught:
        validate_tag(tag)
    assert caught.value.code == "invalid_tag"


def test_extra_tags_name_the_bad_position_and_drop_repeats() -> None:
    assert validate_extra_tags(["b", "a", "b"]) == ("b", "a")
    with pytest.raises(ValidationError) as caught:
        validate_extra_tags(["ok", "Not OK"])
    assert caught.value.field == "tags[1]"


def test_extra_tags_are_limited_in_number() -> None:
    with pytest.raises(ValidationError, match="at most") as caught:
        validate_extra_tags(f"t{index}" for index in range(MAX_EXTRA_TAGS + 1))
    assert caught.value.code == "too_many_tags"


def test_campaign_tags_put_the_derived_tag_first_once() -> None:
    assert campaign_tags("spring", ["vip", "spring", "north"]) == ("spring", "vip", "north")


@given(st.text())
def test_derived_tags_use_only_the_tag_alphabet(name: str) -> None:
    tag = derive_tag(name)
    assert TAG_PATTERN.fullmatch(tag)
    assert 0 < len(tag) <= TAG_MAX_LENGTH
    assert validate_tag(tag) == tag


@given(st.text())
def test_derivation_is_idempotent(name: str) -> None:
    assert derive_tag(derive_tag(name)) == derive_tag(name)


@given(st.lists(st.text(max_size=80), max_size=30))
def test_derived_unique_tags_never_collide(names: list[str]) -> None:
    taken: list[str] = []
    for name in names:
        tag = derive_unique_tag(name, taken)
        assert tag not in taken
        assert TAG_PATTERN.fullmatch(tag)
        assert len(tag) <= TAG_MAX_LENGTH
        taken.append(tag)
