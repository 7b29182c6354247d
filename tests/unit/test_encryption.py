from __future__ import annotations

import stat
from pathlib import Path

import pytest

from herald.errors import ConfigurationError
from herald.settings import Settings
from herald.store.encryption import SecretBox, generate_secret_key, load_secret_box

KEY_A = generate_secret_key()
KEY_B = generate_secret_key()


def test_round_trip_and_ciphertext_hides_the_secret() -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt("EAAG-very-secret-token")
    assert "very-secret" not in token
    assert box.decrypt(token) == "EAAG-very-secret-token"


def test_rotation_decrypts_with_old_keys_and_encrypts_with_the_first() -> None:
    old = SecretBox([KEY_A]).encrypt("s3cret")
    rotated = SecretBox([KEY_B, KEY_A])
    assert rotated.decrypt(old) == "s3cret"
    assert SecretBox([KEY_B]).decrypt(rotated.encrypt("new")) == "new"


def test_wrong_key_is_a_configuration_error_naming_the_setting() -> None:
    token = SecretBox([KEY_A]).encrypt("s3cret")
    with pytest.raises(ConfigurationError, match="HERALD_SECRET_KEY"):
        SecretBox([KEY_B]).decrypt(token)


def test_embedded_default_creates_a_private_key_file_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    token = load_secret_box(settings).encrypt("x")
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_secret_box(settings).decrypt(token) == "x"


@pytest.mark.parametrize(
    "placeholder", ["changeme", "secret", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]
)
def test_placeholder_secret_keys_are_refused(placeholder: str) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        Settings(secret_key=placeholder)  # type: ignore[arg-type]


def test_short_secret_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Settings(secret_key="Zq8-rT1#mK2@vB")  # type: ignore[arg-type]
