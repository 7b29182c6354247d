"""Users, sign-in with throttling, and the audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from herald.domain.audit import ActorKind, AuthAction
from herald.domain.login_throttle import ThrottleScope
from herald.domain.users import Role
from herald.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from herald.services.audit import list_audit
from herald.services.container import Herald
from herald.services.passwords import HashParameters, Passwords
from herald.services.users import bootstrap_admin
from herald.settings import Settings
from herald.store import users as store
from herald.store.audit import AuditFilter
from herald.store.users import UserRow
from herald.testing import FakeClock
from tests.auth_support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    SETUP,
    add_standard_users,
    add_user,
    make_herald,
)

IP = "203.0.113.9"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def herald(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Herald]:
    herald = make_herald(database_url, tmp_path, clock)
    yield herald
    herald.close()


def sign_in(herald: Herald, email: str, password: str, ip: str = IP) -> int:
    with herald.sessions() as session:
        return herald.login.authenticate(session, email, password, ip).id


def actions(herald: Herald) -> list[str]:
    with herald.sessions() as session:
        return [entry.action for entry in reversed(list_audit(session, limit=500).items)]


def test_emails_are_unique_whatever_their_case(herald: Herald) -> None:
    user = add_user(herald, "Ana@Example.com", "a long enough password")
    assert user.email == "ana@example.com" and user.role is Role.MEMBER and user.name == "ana"
    with pytest.raises(ConflictError) as caught:
        add_user(herald, "ANA@example.COM", "a long enough password")
    assert caught.value.field == "email"
    with pytest.raises(ValidationError, match="at least"):
        add_user(herald, "bo@example.com", "short")


def test_the_password_is_stored_only_as_an_argon2id_hash(herald: Herald) -> None:
    user = add_user(herald, "ana@example.com", "a long enough password")
    with herald.sessions() as session:
        row = session.get(UserRow, user.id)
        assert row is not None
        assert row.password_hash.startswith("$argon2id$")
        assert "a long enough password" not in row.password_hash


def test_sign_in_records_the_time_and_an_audit_entry(herald: Herald, clock: FakeClock) -> None:
    admin, _ = add_standard_users(herald)
    clock.advance(timedelta(minutes=5))
    assert sign_in(herald, "ADA@example.com ", ADMIN_PASSWORD) == admin.id
    with herald.sessions() as session:
        assert herald.users.get_user(session, admin.id).last_login_at == clock.now()
        entry = list_audit(session, AuditFilter(action=AuthAction.LOGIN_SUCCEEDED)).items[0]
    assert (entry.actor.kind, entry.actor.id, entry.actor.client_ip) == (ActorKind.USER, 1, IP)


@pytest.mark.parametrize(
    ("email", "password"),
    [(ADMIN_EMAIL, "wrong password, long"), ("nobody@example.com", ADMIN_PASSWORD)],
)
def test_wrong_password_and_unknown_email_fail_alike(
    herald: Herald, email: str, password: str
) -> None:
    add_standard_users(herald)
    with pytest.raises(AuthenticationError) as caught:
        sign_in(herald, email, password)
    assert caught.value.code == "invalid_credentials"
    assert str(caught.value) == "email or password is not correct"
    with herald.sessions() as session:
        entry = list_audit(session, AuditFilter(action=AuthAction.LOGIN_FAILED)).items[0]
    assert entry.actor.kind is ActorKind.ANONYMOUS and entry.actor.label == email


def test_a_password_typed_into_the_email_field_is_not_kept(herald: Herald) -> None:
    with pytest.raises(AuthenticationError):
        sign_in(herald, "my secret passphrase", "x")
    with herald.sessions() as session:
        entry = list_audit(session).items[0]
    assert entry.actor.label is None


def test_an_inactive_user_cannot_sign_in(herald: Herald) -> None:
    _, member = add_standard_users(herald)
    with herald.sessions() as session:
        herald.users.deactivate_user(session, member.id, actor=SETUP)
    with pytest.raises(AuthenticationError):
        sign_in(herald, MEMBER_EMAIL, MEMBER_PASSWORD)


def test_account_failures_slow_down_then_are_forgotten(herald: Herald, clock: FakeClock) -> None:
    add_standard_users(herald)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            sign_in(herald, ADMIN_EMAIL, "wrong password, long")
    with pytest.raises(AuthenticationError):
        sign_in(herald, ADMIN_EMAIL, "wrong password, long")  # the 5th blocks for 2 s
    with pytest.raises(RateLimitedError) as caught:
        sign_in(herald, ADMIN_EMAIL, ADMIN_PASSWORD)  # even the right password
    assert caught.value.retry_after_seconds == 2 and caught.value.code == "login_throttled"
    clock.advance(timedelta(seconds=2))
    with pytest.raises(AuthenticationError):
        sign_in(herald, ADMIN_EMAIL, "wrong password, long")
    with pytest.raises(RateLimitedError) as caught:
        sign_in(herald, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert caught.value.retry_after_seconds == 4  # doubled
    clock.advance(timedelta(hours=1))
    assert sign_in(herald, ADMIN_EMAIL, ADMIN_PASSWORD) == 1


def test_success_resets_the_account_counter(herald: Herald) -> None:
    add_standard_users(herald)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            sign_in(herald, ADMIN_EMAIL, "wrong password, long")
    sign_in(herald, ADMIN_EMAIL, ADMIN_PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            sign_in(herald, ADMIN_EMAIL, "wrong password, long")
    assert sign_in(herald, ADMIN_EMAIL, ADMIN_PASSWORD) == 1


def test_one_address_guessing_many_accounts_is_slowed(herald: Herald) -> None:
    add_standard_users(herald)
    for number in range(20):
        with pytest.raises(AuthenticationError):
            sign_in(herald, f"user{number}@example.com", "guess guess guess")
    with pytest.raises(RateLimitedError):
        sign_in(herald, MEMBER_EMAIL, MEMBER_PASSWORD)
    assert sign_in(herald, MEMBER_EMAIL, MEMBER_PASSWORD, ip="198.51.100.1") == 2


def test_the_limit_holds_across_processes(
    database_url: str, tmp_path: Path, herald: Herald, clock: FakeClock
) -> None:
    add_standard_users(herald)
    other = make_herald(database_url, tmp_path, clock)
    try:
        for index in range(5):
            with pytest.raises(AuthenticationError):
                sign_in(herald if index % 2 else other, ADMIN_EMAIL, "wrong password, long")
        with pytest.raises(RateLimitedError):
            sign_in(other, ADMIN_EMAIL, ADMIN_PASSWORD)
    finally:
        other.close()


def test_a_hash_is_upgraded_at_sign_in_when_parameters_change(
    database_url: str, tmp_path: Path, herald: Herald, clock: FakeClock
) -> None:
    admin, _ = add_standard_users(herald)
    stronger = Passwords(HashParameters(time_cost=2, memory_cost_kib=16, parallelism=1))
    upgraded = Herald.create(
        Settings(database_url=database_url, data_dir=tmp_path), clock, passwords=stronger
    )
    try:
        assert sign_in(upgraded, ADMIN_EMAIL, ADMIN_PASSWORD) == admin.id
        with upgraded.sessions() as session:
            row = session.get(UserRow, admin.id)
            assert row is not None and "m=16,t=2,p=1" in row.password_hash
        assert sign_in(upgraded, ADMIN_EMAIL, ADMIN_PASSWORD) == admin.id
    finally:
        upgraded.close()


def test_changing_a_password_needs_the_current_one_and_ends_sessions(herald: Herald) -> None:
    _, member = add_standard_users(herald)
    with herald.sessions() as session:
        before = herald.users.session_version(session, member.id)
        with pytest.raises(ValidationError) as caught:
            herald.users.change_own_password(
                session,
                member.id,
                current_password="not it at all",
                new_password="a brand new passphrase",
                actor=SETUP,
            )
        assert caught.value.field == "current_password"
        herald.users.change_own_password(
            session,
            member.id,
            current_password=MEMBER_PASSWORD,
            new_password="a brand new passphrase",
            actor=SETUP,
        )
        assert herald.users.session_version(session, member.id) == before + 1
        assert herald.users.principal_for_session(session, member.id, before) is None
        assert herald.users.principal_for_session(session, member.id, before + 1) is not None
    assert sign_in(herald, MEMBER_EMAIL, "a brand new passphrase") == member.id
    assert AuthAction.USER_PASSWORD_CHANGED in actions(herald)


def test_the_last_active_admin_stays(herald: Herald) -> None:
    admin, member = add_standard_users(herald)
    with herald.sessions() as session:
        with pytest.raises(ConflictError, match="last active admin"):
            herald.users.update_user(session, admin.id, role=Role.MEMBER, actor=SETUP)
        session.rollback()
        with pytest.raises(ConflictError):
            herald.users.deactivate_user(session, admin.id, actor=SETUP)
        session.rollback()
        herald.users.update_user(session, member.id, role=Role.ADMIN, actor=SETUP)
        demoted = herald.users.update_user(session, admin.id, role=Role.MEMBER, actor=SETUP)
    assert demoted.role is Role.MEMBER


def test_admin_edits_are_audited_without_secrets(herald: Herald) -> None:
    _, member = add_standard_users(herald)
    with herald.sessions() as session:
        herald.users.update_user(
            session, member.id, name="Max M.", password="another long passphrase", actor=SETUP
        )
        entry = list_audit(session).items[0]
        with pytest.raises(NotFoundError):
            herald.users.get_user(session, 999)
    assert entry.action == AuthAction.USER_UPDATED
    assert entry.details == {"name": "Max M.", "password_changed": True}
    assert entry.actor.kind is ActorKind.CLI and entry.actor.label == "test-setup"


def test_users_list_in_pages(herald: Herald) -> None:
    for number in range(5):
        add_user(herald, f"user{number}@example.com", "a long enough password")
    with herald.sessions() as session:
        first = herald.users.list_users(session, limit=3)
        second = herald.users.list_users(session, after_id=first.next_cursor, limit=3)
    assert [u.email for u in first.items + second.items] == [
        f"user{n}@example.com" for n in range(5)
    ]
    assert second.next_cursor is None


def test_the_first_admin_comes_from_settings_only_when_nobody_exists(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = make_herald(database_url, tmp_path)
    try:
        assert bootstrap_admin(empty) is None
        assert "herald user create --admin" in caplog.text
    finally:
        empty.close()
    settings = {"admin_email": "Boss@Example.com", "admin_password": "bootstrap passphrase"}
    configured = make_herald(database_url, tmp_path, **settings)
    try:
        created = bootstrap_admin(configured)
        assert created is not None and created.email == "boss@example.com"
        assert created.role is Role.ADMIN
        assert bootstrap_admin(configured) is None  # once only
        assert sign_in(configured, "boss@example.com", "bootstrap passphrase") == created.id
    finally:
        configured.close()
    assert "bootstrap passphrase" not in caplog.text


def test_audit_pages_run_newest_first_and_filter(herald: Herald) -> None:
    add_standard_users(herald)
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            sign_in(herald, ADMIN_EMAIL, "wrong password, long")
    with herald.sessions() as session:
        first = list_audit(session, limit=2)
        rest = list_audit(session, before_id=first.next_cursor, limit=50)
        failed = list_audit(session, AuditFilter(action="login.failed"))
        with pytest.raises(ValidationError):
            list_audit(session, limit=0)
    ids = [entry.id for entry in first.items + rest.items]
    assert ids == sorted(ids, reverse=True) and len(ids) == 5
    assert rest.next_cursor is None
    assert len(failed.items) == 3


def test_concurrent_failures_are_all_counted(herald: Herald, clock: FakeClock) -> None:
    now = clock.now()
    barrier = threading.Barrier(6)

    def fail_once() -> None:
        with herald.sessions() as session:
            barrier.wait(timeout=10)
            store.record_failure(
                session, ThrottleScope.ACCOUNT, "ada@example.com", now, now - timedelta(hours=1)
            )
            session.commit()

    threads = [threading.Thread(target=fail_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with herald.sessions() as session:
        record = store.find_failures(session, ThrottleScope.ACCOUNT, "ada@example.com")
    assert record is not None and record.failures == 6
