"""Session cookies: signing, tampering, expiry, rotation; CSRF tokens; safe redirects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.access import SessionPolicy
from herald.web.csrf import new_csrf_token, tokens_match
from herald.web.redirects import safe_next
from herald.web.sessions import COOKIE_NAME, SECURE_COOKIE_NAME, BrowserSession, SessionCookies

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = SessionPolicy(max_age=timedelta(hours=12), idle=timedelta(hours=2))
KEY_A = "a" * 20 + "bcdefghijklmnopq"
KEY_B = "z" * 20 + "yxwvutsrqponmlkj"


def signed_in(cookies: SessionCookies, at: datetime = T0) -> str:
    session = BrowserSession()
    session.log_in(7, 3, at)
    return cookies.dump(session)


def test_a_signed_in_session_round_trips() -> None:
    cookies = SessionCookies([KEY_A], POLICY, secure=False)
    loaded = cookies.load(signed_in(cookies), T0 + timedelta(minutes=5))
    assert (loaded.user_id, loaded.session_version) == (7, 3)
    assert loaded.peek_csrf_token()
    assert not loaded.modified and not loaded.expired


def test_a_tampered_cookie_is_an_empty_session() -> None:
    cookies = SessionCookies([KEY_A], POLICY, secure=False)
    value = signed_in(cookies)
    payload, _, signature = value.rpartition(".")
    forged = payload.replace("e", "f", 1) + "." + signature
    for bad in (forged, value[:-2], "garbage", ""):
        assert cookies.load(bad, T0).user_id is None


def test_a_cookie_signed_with_another_key_is_refused() -> None:
    ours = SessionCookies([KEY_A], POLICY, secure=False)
    theirs = SessionCookies([KEY_B], POLICY, secure=False)
    assert ours.load(signed_in(theirs), T0).user_id is None


def test_rotation_the_first_key_signs_and_every_key_verifies() -> None:
    old = SessionCookies([KEY_A], POLICY, secure=False)
    rotated = SessionCookies([KEY_B, KEY_A], POLICY, secure=False)
    assert rotated.load(signed_in(old), T0).user_id == 7
    new_only = SessionCookies([KEY_B], POLICY, secure=False)
    assert new_only.load(signed_in(rotated), T0).user_id == 7


@pytest.mark.parametrize(
    ("later", "still_signed_in"),
    [(timedelta(hours=1), True), (timedelta(hours=2), False), (timedelta(days=3), False)],
)
def test_idle_sessions_expire_but_keep_their_csrf_token(
    later: timedelta, still_signed_in: bool
) -> None:
    cookies = SessionCookies([KEY_A], POLICY, secure=False)
    value = signed_in(cookies)
    token = cookies.load(value, T0).peek_csrf_token()
    loaded = cookies.load(value, T0 + later)
    assert (loaded.user_id is not None) is still_signed_in
    assert loaded.expired is not still_signed_in
    assert loaded.peek_csrf_token() == token


def test_sessions_end_at_their_maximum_age_however_active() -> None:
    cookies = SessionCookies([KEY_A], POLICY, secure=False)
    session = cookies.load(signed_in(cookies), T0)
    for hour in range(1, 12):
        session.touch(T0 + timedelta(hours=hour))
        session = cookies.load(cookies.dump(session), T0 + timedelta(hours=hour, minutes=30))
        assert session.user_id == 7
    assert cookies.load(cookies.dump(session), T0 + timedelta(hours=12)).user_id is None


def test_login_and_logout_rotate_the_csrf_token() -> None:
    session = BrowserSession()
    anonymous = session.csrf_token(T0)
    session.log_in(1, 1, T0)
    signed = session.peek_csrf_token()
    session.log_out(T0)
    assert len({anonymous, signed, session.peek_csrf_token()}) == 3
    assert session.user_id is None


def test_cookie_flags_and_names() -> None:
    plain = SessionCookies([KEY_A], POLICY, secure=False)
    secure = SessionCookies([KEY_A], POLICY, secure=True)
    session = BrowserSession()
    session.log_in(1, 1, T0)
    header = plain.set_cookie_header(session)
    assert header.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Secure" not in header and "Max-Age=43200" in header
    secure_header = secure.set_cookie_header(session)
    assert secure_header.startswith(f"{SECURE_COOKIE_NAME}=") and "; Secure" in secure_header


def test_csrf_tokens_match_only_themselves() -> None:
    token = new_csrf_token()
    assert len(token) >= 40
    assert tokens_match(token, token)
    assert not tokens_match(token, new_csrf_token())
    assert (
        not tokens_match(None, token) and not tokens_match(token, "") and not tokens_match("", "")
    )


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/campaigns?status=draft", True),
        ("/", True),
        ("//evil.example/x", False),
        ("/\\evil.example", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("campaigns", False),
        ("/ok\r\nSet-Cookie: x=1", False),
        (None, False),
        ("", False),
    ],
)
def test_safe_next(target: str | None, kept: bool) -> None:
    assert safe_next(target) == (target if kept else "/")


@given(st.text(max_size=60))
def test_safe_next_never_leaves_the_site(target: str) -> None:
    result = safe_next(target)
    parts = urlsplit(result)
    assert result.startswith("/") and not result.startswith("//")
    assert not parts.scheme and not parts.netloc and "\\" not in result
