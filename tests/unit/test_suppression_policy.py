"""Suppression policy: address normalisation, scopes, who may lift an entry."""

from __future__ import annotations

import pytest

from herald.domain.channels import Channel
from herald.domain.suppression import (
    SuppressionScope,
    can_opt_in,
    canonical_address,
    normalize_address,
    scopes_checked,
)
from herald.errors import ValidationError


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+34 600 111 222", "US", "+34600111222"),
        ("(202) 555-0101", "US", "+12025550101"),
        ("600111222", "ES", "+34600111222"),
        ("  Ana.Ruiz@Example.COM ", "US", "ana.ruiz@example.com"),
    ],
)
def test_addresses_are_normalised(raw: str, region: str, expected: str) -> None:
    assert normalize_address(raw, default_region=region) == expected


@pytest.mark.parametrize("raw", ["", "   ", "not a phone", "12", "ana@", "@example.com", "a b@c.d"])
def test_bad_addresses_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_address(raw, field="to")
    assert caught.value.field == "to"


def test_every_channel_is_blocked_by_global_and_own_entries() -> None:
    for channel in Channel:
        assert scopes_checked(channel) == (SuppressionScope.ALL, SuppressionScope(channel.value))


def test_only_sms_and_whatsapp_allow_a_contact_to_opt_back_in() -> None:
    assert {channel for channel in Channel if can_opt_in(channel)} == {
        Channel.SMS,
        Channel.WHATSAPP,
    }


def test_canonical_address_lowercases_emails_only() -> None:
    assert canonical_address(" Bob@Example.com") == "bob@example.com"
    assert canonical_address("+12025550101 ") == "+12025550101"
