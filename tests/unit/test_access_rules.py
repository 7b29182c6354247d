"""Users, roles, principals, session expiry and audit details: the pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.domain.access import Principal, SessionPolicy, session_expired, session_needs_refresh
from herald.domain.api_keys import ApiKeyScope
from herald.domain.audit import REDACTED, check_action, redact_details
from herald.domain.users import (
    PASSWORD_MIN_LENGTH,
    Role,
    check_password_policy,
    clean_name,
    normalize_email,
    parse_role,
)
from herald.errors import ValidationError

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = SessionPolicy(max_age=timedelta(hours=12), idle=timedelta(hours=2))


@pytest.mark.parametrize(
    ("principal", "can_write", "is_admin"),
    [
        (Principal.for_user(1, "a@x.io", "A", Role.MEMBER), True, False),
        (Principal.for_user(1, "a@x.io", "A", Role.ADMIN), True, True),
        (Principal.for_api_key(1, "k", ApiKeyScope.READ), False, False),
        (Principal.for_api_key(1, "k", ApiKeyScope.WRITE), True, False),
        (Principal.for_api_key(1, "k", ApiKeyScope.ADMIN), True, True),
    ],
)
def test_permission_table(principal: Principal, can_write: bool, is_admin: bool) -> None:
    assert principal.can_write is can_write
    assert principal.is_admin is is_admin


@pytest.mark.parametrize(
    ("issued", "seen", "now", "expired"),
    [
        (T0, T0, T0, False),
        (T0, T0, T0 + timedelta(hours=1, minutes=59), False),
        (T0, T0, T0 + timedelta(hours=2), True),  # idle
        (T0, T0 + timedelta(hours=11), T0 + timedelta(hours=11, minutes=30), False),
        (T0, T0 + timedelta(hours=11, minutes=59), T0 + timedelta(hours=12), True),  # age
        (T0 + timedelta(hours=1), T0, T0, True),  # issued in the future
    ],
)
def test_session_expiry(issued: datetime, seen: datetime, now: datetime, expired: bool) -> None:
    assert session_expired(issued, seen, now, POLICY) is expired


def test_last_seen_is_refreshed_at_most_once_a_minute() -> None:
    assert not session_needs_refresh(T0, T0 + timedelta(seconds=59))
    assert session_needs_refresh(T0, T0 + timedelta(seconds=60))


def test_session_policy_must_be_coherent() -> None:
    with pytest.raises(ValueError, match="idle"):
        SessionPolicy(max_age=timedelta(hours=1), idle=timedelta(hours=2))


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("Ana@Example.COM", "ana@example.com"), ("  bo@x.io ", "bo@x.io")],
)
def test_emails_are_lower_cased(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize("raw", ["", "no-at-sign", "a@", "a" * 300 + "@x.io"])
def test_bad_emails_name_the_field(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_email(raw)
    assert caught.value.field == "email"


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("x" * (PASSWORD_MIN_LENGTH - 1), "at least"),
        ("x" * 257, "at most"),
        ("ana.long.name@example.com", "email"),
    ],
)
def test_password_policy(password: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment) as caught:
        check_password_policy(password, "ana.long.name@example.com")
    assert caught.value.field == "password"


def test_a_long_password_passes() -> None:
    check_password_policy("correct horse battery staple", "ana@example.com")


def test_names_default_to_the_local_part() -> None:
    assert clean_name("  ", "ana@example.com") == "ana"
    assert clean_name(" Ana Lima ", "ana@example.com") == "Ana Lima"
    with pytest.raises(ValidationError):
        clean_name("n" * 121, "ana@example.com")


def test_roles_parse_or_name_the_choices() -> None:
    assert parse_role("admin") is Role.ADMIN
    with pytest.raises(ValidationError, match="admin, member"):
        parse_role("owner")


def test_secret_looking_details_are_redacted_at_any_depth() -> None:
    details = {
        "name": "CRM",
        "password": "hunter2-hunter2",
        "password_changed": True,
        "settings": {"access_token": "EAAB...", "phone_number_id": "123"},
        "items": [{"api_key": "k"}],
        "prefix": "abcd1234",
    }
    redacted = redact_details(details)
    assert redacted["password"] == REDACTED
    assert redacted["password_changed"] is True
    assert redacted["settings"] == {"access_token": REDACTED, "phone_number_id": "123"}
    assert redacted["items"] == [{"api_key": REDACTED}]
    assert redacted["name"] == "CRM" and redacted["prefix"] == "abcd1234"


@pytest.mark.parametrize("action", ["user.created", "campaign.launched", "api_key.revoked"])
def test_actions_read_area_dot_verb(action: str) -> None:
    assert check_action(action) == action


@pytest.mark.parametrize("action", ["", "created", "User.Created", "user.", "user created"])
def test_other_actions_are_refused(action: str) -> None:
    with pytest.raises(ValidationError):
        check_action(action)
