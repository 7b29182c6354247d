"""X-Hub-Signature-256 and the subscription handshake, against independent vectors."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from pydantic import SecretStr

from herald.channels.whatsapp.webhooks import (
    SubscriptionRefusedError,
    signature_for,
    verify_signature,
    verify_subscription,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers" / "whatsapp"
SECRET = "fixed-app-secret"
BODY = (FIXTURES / "status_delivered.json").read_bytes()


def _independent(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_rfc_4231_known_vector() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    header = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert verify_signature(b"what do ya want for nothing?", header, "Jefe")
    assert signature_for(b"what do ya want for nothing?", "Jefe") == header


def test_fixed_vector_over_a_webhook_body() -> None:
    # Computed once with: printf '%s' "$body" | openssl dgst -sha256 -hmac fixed-app-secret
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    header = "sha256=f2675c84921d9353668477c60907175a3b26251daef21ec19f5311b5cc38fc53"
    assert verify_signature(body, header, SECRET)


def test_signature_computed_independently_verifies() -> None:
    assert verify_signature(BODY, _independent(BODY, SECRET), SECRET)
    assert verify_signature(BODY, _independent(BODY, SECRET), SecretStr(SECRET))


def test_uppercase_hex_and_surrounding_space_are_tolerated() -> None:
    digest = _independent(BODY, SECRET).removeprefix("sha256=")
    assert verify_signature(BODY, f" sha256={digest.upper()} ", SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
        _independent(BODY, SECRET).removeprefix("sha256="),
        _independent(BODY, "another-secret"),
        _independent(BODY, SECRET)[:-2],
        _independent(BODY, SECRET) + "00",
        "sha256=" + "é" * 64,
    ],
    ids=[
        "missing",
        "empty",
        "no-digest",
        "sha1",
        "no-prefix",
        "wrong-key",
        "short",
        "long",
        "non-ascii",
    ],
)
def test_unsigned_or_mis_signed_bodies_are_refused(header: str | None) -> None:
    assert not verify_signature(BODY, header, SECRET)


def test_tampered_body_is_refused() -> None:
    header = _independent(BODY, SECRET)
    tampered = BODY.replace(b'"delivered"', b'"read"')
    assert tampered != BODY
    assert not verify_signature(tampered, header, SECRET)
    # Same JSON re-encoded is different bytes: the signature covers bytes, not meaning.
    assert not verify_signature(BODY.replace(b": ", b":"), header, SECRET)


def test_an_empty_secret_verifies_nothing() -> None:
    assert not verify_signature(BODY, _independent(BODY, ""), "")


def _params(**overrides: str) -> dict[str, str]:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "herald-verify",
        "hub.challenge": "1158201444",
    }
    params.update(overrides)
    return params


def test_handshake_returns_the_raw_challenge() -> None:
    assert verify_subscription(_params(), "herald-verify") == "1158201444"
    assert verify_subscription(_params(), SecretStr("herald-verify")) == "1158201444"


@pytest.mark.parametrize(
    "params, field",
    [
        (_params(**{"hub.verify_token": "guess"}), "hub.verify_token"),
        (_params(**{"hub.verify_token": ""}), "hub.verify_token"),
        (_params(**{"hub.mode": "unsubscribe"}), "hub.mode"),
        (_params(**{"hub.challenge": ""}), "hub.challenge"),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, "hub.verify_token"),
    ],
)
def test_handshake_refuses_without_the_token(params: dict[str, str], field: str) -> None:
    with pytest.raises(SubscriptionRefusedError) as caught:
        verify_subscription(params, "herald-verify")
    assert caught.value.field == field
    assert caught.value.code == "webhook_subscription_refused"


def test_handshake_with_an_empty_configured_token_refuses_everything() -> None:
    with pytest.raises(SubscriptionRefusedError):
        verify_subscription(_params(**{"hub.verify_token": ""}), "")
