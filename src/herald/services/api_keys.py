"""API keys: create (the token is shown once), list, revoke, and authenticate a bearer token.

A key works while it is not revoked and, when a user created it, while that
user is still an active admin: deactivating or demoting someone also
disarms the keys they made. Keys made on the command line have no creator
and work until revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.access import SESSION_REFRESH_INTERVAL, Principal
from herald.domain.api_keys import (
    NAME_MAX_LENGTH,
    PREFIX_ALPHABET,
    PREFIX_LENGTH,
    SECRET_ALPHABET,
    SECRET_LENGTH,
    ApiKeyScope,
    ApiKeyToken,
    hash_secret,
    parse_api_key,
    secret_matches,
)
from herald.domain.audit import Actor, AuditTarget, AuthAction
from herald.domain.ids import ApiKeyId, UserId
from herald.domain.users import Role
from herald.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from herald.services.audit import record_audit
from herald.store.api_keys import ApiKeyRow
from herald.store.users import UserRow

# Writing last_used_at on every request would turn each read into a write;
# the time is kept to the minute, which is what people look at it for.
LAST_USED_RESOLUTION = SESSION_REFRESH_INTERVAL


@dataclass(frozen=True)
class ApiKeyView:
    """A key as listed: its prefix, never its secret or digest."""

    id: ApiKeyId
    name: str
    prefix: str
    scope: ApiKeyScope
    created_by_id: UserId | None
    created_by_email: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class VerifiedKey:
    """A valid key's principal, and whether its ``last_used_at`` is due an update."""

    principal: Principal
    use_to_record: bool


def _use_is_stale(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key and its token; the token cannot be read again after this."""

    key: ApiKeyView
    token: str

    def __repr__(self) -> str:
        return f"CreatedApiKey(key={self.key!r}, token=<hidden>)"


def new_token() -> ApiKeyToken:
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
    return ApiKeyToken(prefix, secret)


@dataclass(frozen=True)
class ApiKeyServices:
    clock: Clock

    def create_key(
        self,
        session: Session,
        *,
        name: str,
        scope: ApiKeyScope | str,
        actor: Actor,
        created_by: int | None = None,
    ) -> CreatedApiKey:
        name, scope = _clean_name(name), _scope(scope)
        creator = _creator(session, created_by)
        token = new_token()
        while session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.prefix == token.prefix)):
            token = new_token()  # 36**8 prefixes: a clash is rare but possible
        row = ApiKeyRow(
            name=name,
            prefix=token.prefix,
            secret_hash=hash_secret(token.secret),
            scope=scope.value,
            created_by_id=creator.id if creator else None,
            created_at=self.clock.now(),
        )
        session.add(row)
        session.flush()
        details = {"name": name, "scope": scope.value, "prefix": token.prefix}
        self._audit(session, actor, AuthAction.API_KEY_CREATED, row, details)
        session.commit()
        return CreatedApiKey(_view(row, creator), str(token))

    def list_keys(self, session: Session, *, include_revoked: bool = True) -> list[ApiKeyView]:
        query = (
            select(ApiKeyRow, UserRow)
            .outerjoin(UserRow, UserRow.id == ApiKeyRow.created_by_id)
            .order_by(ApiKeyRow.id)
        )
        if not include_revoked:
            query = query.where(ApiKeyRow.revoked_at.is_(None))
        return [_view(key, user) for key, user in session.execute(query)]

    def get_key(self, session: Session, key_id: int) -> ApiKeyView:
        row = _get_row(session, key_id)
        return _view(row, _creator_row(session, row))

    def find_key(self, session: Session, prefix: str) -> ApiKeyView | None:
        row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
        return None if row is None else _view(row, _creator_row(session, row))

    def revoke_key(self, session: Session, key_id: int, *, actor: Actor) -> ApiKeyView:
        """Stop the key working; revoking a revoked key changes nothing."""
        row = _get_row(session, key_id)
        if row.revoked_at is None:
            row.revoked_at = self.clock.now()
            details = {"name": row.name, "prefix": row.prefix}
            self._audit(session, actor, AuthAction.API_KEY_REVOKED, row, details)
            session.commit()
        return _view(row, _creator_row(session, row))

    def authenticate(self, session: Session, token: str) -> Principal:
        """The principal of a bearer token, else :class:`AuthenticationError`."""
        verified = self.verify(session, token)
        if verified.use_to_record:
            self.record_use(session, verified.principal.id)
        return verified.principal

    def verify(self, session: Session, token: str) -> VerifiedKey:
        """Check a bearer token without writing anything.

        The web checks every request's key on a read-only session, so that
        authenticating never waits for the workers' write lock (SQLite); the
        rare ``last_used_at`` update then goes through :meth:`record_use`.
        """
        parsed = parse_api_key(token)
        row = None
        if parsed is not None:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == parsed.prefix))
        if parsed is None or row is None or not secret_matches(parsed.secret, row.secret_hash):
            raise AuthenticationError("the API key is not valid", code="invalid_api_key")
        if row.revoked_at is not None or not _creator_allows(session, row):
            raise AuthenticationError("the API key has been revoked", code="invalid_api_key")
        principal = Principal.for_api_key(row.id, row.name, ApiKeyScope(row.scope))
        return VerifiedKey(principal, _use_is_stale(row.last_used_at, self.clock.now()))

    def record_use(self, session: Session, key_id: int) -> None:
        """Set ``last_used_at`` to now, unless another request just did."""
        row = session.get(ApiKeyRow, key_id)
        now = self.clock.now()
        if row is not None and _use_is_stale(row.last_used_at, now):
            row.last_used_at = now
            session.commit()

    def _audit(
        self,
        session: Session,
        actor: Actor,
        action: AuthAction,
        row: ApiKeyRow,
        details: dict[str, str],
    ) -> None:
        target = AuditTarget.of("api_key", row.id)
        record_audit(session, actor, action, target, details, clock=self.clock)


def _creator(session: Session, user_id: int | None) -> UserRow | None:
    if user_id is None:
        return None
    user = session.get(UserRow, user_id)
    if user is None or not user.is_active or user.role != Role.ADMIN.value:
        raise PermissionDeniedError("only an active admin can create API keys")
    return user


def _creator_row(session: Session, row: ApiKeyRow) -> UserRow | None:
    return None if row.created_by_id is None else session.get(UserRow, row.created_by_id)


def _creator_allows(session: Session, row: ApiKeyRow) -> bool:
    if row.created_by_id is None:
        return True
    creator = session.get(UserRow, row.created_by_id)
    return creator is not None and creator.is_active and creator.role == Role.ADMIN.value


def _view(row: ApiKeyRow, creator: UserRow | None) -> ApiKeyView:
    return ApiKeyView(
        id=ApiKeyId(row.id),
        name=row.name,
        prefix=row.prefix,
        scope=ApiKeyScope(row.scope),
        created_by_id=UserId(row.created_by_id) if row.created_by_id is not None else None,
        created_by_email=creator.email if creator else None,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            f"an API key needs a name of 1 to {NAME_MAX_LENGTH} characters", field="name"
        )
    return name


def _scope(scope: ApiKeyScope | str) -> ApiKeyScope:
    try:
        return ApiKeyScope(scope)
    except ValueError:
        known = ", ".join(s.value for s in ApiKeyScope)
        raise ValidationError(
            f"unknown scope {scope!r}; use one of {known}", field="scope"
        ) from None


def _get_row(session: Session, key_id: int) -> ApiKeyRow:
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFoundError(f"API key {key_id} does not exist", field="api_key_id")
    return row
