"""API keys: creation, bearer authentication, last use, revocation, owners."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest

from herald.domain.access import PrincipalKind
from herald.domain.api_keys import ApiKeyScope, parse_api_key
from herald.domain.audit import AuthAction
from herald.domain.users import Role
from herald.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError
from herald.services.api_keys import CreatedApiKey
from herald.services.audit import list_audit
from herald.services.container import Herald
from herald.store.api_keys import ApiKeyRow
from herald.testing import FakeClock
from tests.auth_support import SETUP, add_standard_users, make_herald


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def herald(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Herald]:
    herald = make_herald(database_url, tmp_path, clock)
    yield herald
    herald.close()


def create(
    herald: Herald, scope: ApiKeyScope = ApiKeyScope.WRITE, owner: int | None = None
) -> CreatedApiKey:
    with herald.sessions() as session:
        return herald.api_keys.create_key(
            session, name="CRM sync", scope=scope, actor=SETUP, created_by=owner
        )


def authenticate(herald: Herald, token: str) -> int:
    with herald.sessions() as session:
        return herald.api_keys.authenticate(session, token).id


def test_a_new_key_authenticates_and_is_stored_hashed(herald: Herald) -> None:
    created = create(herald, ApiKeyScope.READ)
    parsed = parse_api_key(created.token)
    assert parsed is not None and parsed.prefix == created.key.prefix
    with herald.sessions() as session:
        principal = herald.api_keys.authenticate(session, created.token)
        row = session.get(ApiKeyRow, created.key.id)
    assert principal.kind is PrincipalKind.API_KEY and principal.scope is ApiKeyScope.READ
    assert not principal.can_write
    assert row is not None and parsed.secret not in row.secret_hash
    assert created.token not in repr(created)
    assert parsed.secret not in str(asdict(created.key))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # wrong secret
        lambda token: "hk_zzzzzzzz_" + token.split("_")[2],  # unknown prefix
        lambda token: "Bearer " + token,
        lambda token: "",
    ],
)
def test_anything_but_the_exact_token_is_refused(herald: Herald, mangle: object) -> None:
    created = create(herald)
    assert callable(mangle)
    with pytest.raises(AuthenticationError) as caught:
        authenticate(herald, mangle(created.token))
    assert caught.value.code == "invalid_api_key"


def test_last_use_is_kept_to_the_minute(herald: Herald, clock: FakeClock) -> None:
    created = create(herald)
    authenticate(herald, created.token)
    first_use = clock.now()
    clock.advance(timedelta(seconds=30))
    authenticate(herald, created.token)
    with herald.sessions() as session:
        assert herald.api_keys.get_key(session, created.key.id).last_used_at == first_use
    clock.advance(timedelta(seconds=30))
    authenticate(herald, created.token)
    with herald.sessions() as session:
        assert herald.api_keys.get_key(session, created.key.id).last_used_at == clock.now()


def test_a_revoked_key_stops_working(herald: Herald) -> None:
    created = create(herald)
    with herald.sessions() as session:
        revoked = herald.api_keys.revoke_key(session, created.key.id, actor=SETUP)
        again = herald.api_keys.revoke_key(session, created.key.id, actor=SETUP)
        active = herald.api_keys.list_keys(session, include_revoked=False)
        with pytest.raises(NotFoundError):
            herald.api_keys.revoke_key(session, 999, actor=SETUP)
    assert revoked.revoked_at is not None and again.revoked_at == revoked.revoked_at
    assert active == []
    with pytest.raises(AuthenticationError, match="revoked"):
        authenticate(herald, created.token)
    with herald.sessions() as session:
        logged = [e.action for e in list_audit(session).items]
    assert logged.count(AuthAction.API_KEY_REVOKED) == 1


def test_keys_follow_their_owner(herald: Herald) -> None:
    admin, member = add_standard_users(herald)
    with herald.sessions() as session:
        herald.users.update_user(session, member.id, role=Role.ADMIN, actor=SETUP)
    owned = create(herald, owner=admin.id)
    unowned = create(herald)
    assert owned.key.created_by_email == admin.email
    authenticate(herald, owned.token)
    with herald.sessions() as session:
        herald.users.update_user(session, admin.id, role=Role.MEMBER, actor=SETUP)
    with pytest.raises(AuthenticationError):
        authenticate(herald, owned.token)
    assert authenticate(herald, unowned.token) == unowned.key.id


def test_only_an_active_admin_can_own_a_key(herald: Herald) -> None:
    _, member = add_standard_users(herald)
    with pytest.raises(PermissionDeniedError):
        create(herald, owner=member.id)


@pytest.mark.parametrize(("name", "scope"), [("", "read"), ("x" * 121, "read"), ("ok", "root")])
def test_bad_key_input_names_the_field(herald: Herald, name: str, scope: str) -> None:
    with herald.sessions() as session, pytest.raises(ValidationError) as caught:
        herald.api_keys.create_key(session, name=name, scope=scope, actor=SETUP)
    assert caught.value.field in {"name", "scope"}
