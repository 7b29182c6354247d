"""Message tokens (Message-ID / VERP / plus-addressing) and signed unsubscribe tokens."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.channels.email.tokens import (
    UnsubscribeSubject,
    is_message_token,
    key_digest,
    message_id_for,
    message_token_of,
    new_message_token,
    plus_address,
    plus_token,
    read_unsubscribe_token,
    sign_unsubscribe_token,
)
from herald.errors import ValidationError

SECRET = "unsubscribe-secret-for-tests-0123"


def test_message_tokens_are_unique_and_carry_the_key_digest() -> None:
    first, second = new_message_token("c1:j1:s0"), new_message_token("c1:j1:s0")
    assert first != second
    assert is_message_token(first)
    assert first.endswith("." + key_digest("c1:j1:s0"))
    assert message_id_for(first, "mail.example.test") == f"<{first}@mail.example.test>"


def test_plus_addresses_carry_and_return_the_token() -> None:
    token = new_message_token("k")
    address = plus_address("bounce+old@mail.example.test", token)
    assert address == f"bounce+{token}@mail.example.test"
    assert plus_token(address) == token
    assert message_token_of(address.upper()) == token
    assert plus_token("bounce@mail.example.test") is None
    assert message_token_of("reply+not-ours@inbound.example.test") is None


def test_unsubscribe_token_round_trip() -> None:
    token = sign_unsubscribe_token("Ana@Example.org", "campaign-42", SECRET)
    assert token == token.lower() and token.isalnum()
    assert read_unsubscribe_token(token, SECRET) == UnsubscribeSubject(
        "ana@example.org", "campaign-42"
    )
    assert read_unsubscribe_token(token.upper(), SECRET).list_id == "campaign-42"


def test_unsubscribe_token_refuses_the_wrong_secret() -> None:
    token = sign_unsubscribe_token("ana@example.org", "", SECRET)
    with pytest.raises(ValidationError, match="signature"):
        read_unsubscribe_token(token, "another-secret-of-enough-length")


def test_unsubscribe_token_refuses_a_payload_swapped_for_another_address() -> None:
    token = sign_unsubscribe_token("ana@example.org", "c1", SECRET)
    raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
    forged_payload = bytes([1]) + b"eve@example.org\x00c1"
    forged = base64.b32encode(forged_payload + raw[-16:]).decode().rstrip("=").lower()
    with pytest.raises(ValidationError):
        read_unsubscribe_token(forged, SECRET)


@pytest.mark.parametrize("garbage", ["", "!!!", "a", "0" * 10, "é" * 40])
def test_unsubscribe_token_refuses_garbage(garbage: str) -> None:
    with pytest.raises(ValidationError):
        read_unsubscribe_token(garbage, SECRET)


@settings(max_examples=40)
@given(
    address=st.emails(),
    list_id=st.text(max_size=30).filter(lambda s: "\x00" not in s),
    position=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_any_changed_byte_invalidates_the_token(
    address: str, list_id: str, position: int, flip: int
) -> None:
    token = sign_unsubscribe_token(address, list_id, SECRET)
    assert read_unsubscribe_token(token, SECRET) == UnsubscribeSubject(address.lower(), list_id)
    raw = bytearray(base64.b32decode(token.upper() + "=" * (-len(token) % 8)))
    raw[position % len(raw)] ^= flip
    tampered = base64.b32encode(bytes(raw)).decode().rstrip("=").lower()
    with pytest.raises(ValidationError):
        read_unsubscribe_token(tampered, SECRET)
