"""Argon2id hashing and the settings that guard sessions and secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError as SettingsError

from herald.services.passwords import HashParameters, Passwords
from herald.settings import Settings
from herald.store.encryption import load_session_secrets
from herald.testing import fast_passwords
from herald.web.security_headers import security_headers

STRONG = "kV3nq8Zr1pLx0aTw7sYd2bHc9mUe4fGj"


def test_hashes_are_argon2id_and_salted() -> None:
    passwords = fast_passwords()
    first, second = passwords.hash("correct horse battery"), passwords.hash("correct horse battery")
    assert first.startswith("$argon2id$") and first != second
    assert "correct horse battery" not in first
    assert passwords.verify(first, "correct horse battery")
    assert not passwords.verify(first, "correct horse batterY")


def test_a_corrupt_hash_never_matches() -> None:
    passwords = fast_passwords()
    assert not passwords.verify("not a hash", "anything")
    assert passwords.needs_rehash("not a hash")


def test_a_hash_with_other_parameters_needs_rehashing() -> None:
    weak = fast_passwords()
    stronger = Passwords(HashParameters(time_cost=2, memory_cost_kib=16, parallelism=1))
    stored = weak.hash("correct horse battery")
    assert stronger.verify(stored, "correct horse battery")
    assert stronger.needs_rehash(stored)
    assert not stronger.needs_rehash(stronger.hash("correct horse battery"))


def test_verify_nothing_never_matches() -> None:
    assert fast_passwords().verify_nothing("decoy password that matches no login attempt") is False


@pytest.mark.parametrize("value", ["changeme", "secret", "short-but-random-7f3", f"{STRONG},xxx"])
def test_placeholder_session_secrets_are_refused(value: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HERALD_SESSION_SECRET"):
        Settings(data_dir=tmp_path, session_secret=value)


def test_session_secret_comes_from_settings_then_secret_key_then_a_file(tmp_path: Path) -> None:
    other = STRONG[::-1]
    explicit = Settings(data_dir=tmp_path, session_secret=f"{STRONG}, {other}")
    assert load_session_secrets(explicit) == [STRONG, other]
    derived = load_session_secrets(Settings(data_dir=tmp_path, secret_key=STRONG))
    assert derived != [STRONG] and len(derived[0]) == 64
    assert load_session_secrets(Settings(data_dir=tmp_path, secret_key=STRONG)) == derived
    generated = load_session_secrets(Settings(data_dir=tmp_path))
    assert (tmp_path / "session.key").stat().st_mode & 0o077 == 0
    assert load_session_secrets(Settings(data_dir=tmp_path)) == generated


@pytest.mark.parametrize(
    ("url", "https"),
    [(None, False), ("http://localhost:8000", False), ("https://herald.example.com/", True)],
)
def test_public_url_decides_https(url: str | None, https: bool, tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, public_base_url=url).uses_https() is https


def test_public_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HERALD_PUBLIC_BASE_URL"):
        Settings(data_dir=tmp_path, public_base_url="ftp://herald.example.com")


def test_headers_send_hsts_only_over_https() -> None:
    plain = security_headers("/login", https=False)
    assert "Strict-Transport-Security" not in plain
    assert "frame-ancestors 'none'" in plain["Content-Security-Policy"]
    assert "'unsafe-inline'" not in plain["Content-Security-Policy"]
    assert security_headers("/", https=True)["Strict-Transport-Security"].startswith("max-age=")


def test_idle_time_cannot_exceed_the_session_lifetime(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HERALD_SESSION_IDLE_SECONDS"):
        Settings(data_dir=tmp_path, session_max_age_seconds=600, session_idle_seconds=900)
