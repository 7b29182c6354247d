"""API key token format, parsing and secret comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.api_keys import (
    PREFIX_ALPHABET,
    PREFIX_LENGTH,
    SECRET_ALPHABET,
    SECRET_LENGTH,
    ApiKeyToken,
    hash_secret,
    parse_api_key,
    secret_matches,
)
from herald.services.api_keys import new_token

prefixes = st.text(PREFIX_ALPHABET, min_size=PREFIX_LENGTH, max_size=PREFIX_LENGTH)
secrets_ = st.text(SECRET_ALPHABET, min_size=SECRET_LENGTH, max_size=SECRET_LENGTH)


@given(prefixes, secrets_)
def test_a_formatted_token_parses_back(prefix: str, secret: str) -> None:
    token = ApiKeyToken(prefix, secret)
    assert str(token) == f"hk_{prefix}_{secret}"
    assert parse_api_key(str(token)) == token


@given(st.text(max_size=80))
def test_parsing_never_fails_on_garbage(text: str) -> None:
    parsed = parse_api_key(text)
    assert parsed is None or str(parsed) == text.strip()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "hk_",
        "hk_abcdefgh",
        "pk_abcdefgh_" + "a" * 40,
        "hk_ABCDEFGH_" + "a" * 40,  # prefixes are lower case
        "hk_abcdefg_" + "a" * 40,  # short prefix
        "hk_abcdefgh_" + "a" * 39,  # short secret
        "hk_abcdefgh_" + "a" * 39 + "-",  # outside the alphabet
        "hk_abcdefgh_" + "a" * 20 + "_" + "a" * 19,
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    assert parse_api_key(token) is None


def test_new_tokens_are_well_formed_and_distinct() -> None:
    tokens = {str(new_token()) for _ in range(50)}
    assert len(tokens) == 50
    assert all(parse_api_key(token) is not None for token in tokens)


def test_the_secret_is_compared_through_its_digest() -> None:
    token = new_token()
    stored = hash_secret(token.secret)
    assert len(stored) == 64 and token.secret not in stored
    assert secret_matches(token.secret, stored)
    assert not secret_matches(token.secret[:-1] + "x", stored)


def test_repr_hides_the_secret() -> None:
    token = new_token()
    assert token.secret not in repr(token)
    assert token.prefix in repr(token)
