"""User management: create, edit, change passwords, deactivate, bootstrap the first admin.

Every change is recorded in the audit log in the same transaction and
committed here. Changing a password, deactivating a user or logging out
bumps the user's session version, which ends every session cookie issued
before (see :mod:`herald.web.sessions`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.access import Principal
from herald.domain.audit import Actor, AuditTarget, AuthAction
from herald.domain.ids import UserId
from herald.domain.users import (
    Role,
    check_password_policy,
    clean_name,
    normalize_email,
    parse_role,
)
from herald.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)
from herald.services.audit import record_audit
from herald.services.passwords import Passwords
from herald.store.users import UserRow, count_users, find_user_by_email

if TYPE_CHECKING:
    from herald.services.container import Herald

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class UserView:
    """A user as shown to people and API clients: never the password hash."""

    id: UserId
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class UserPage:
    items: tuple[UserView, ...]
    next_cursor: int | None  # pass back as ``after_id``


def to_view(row: UserRow) -> UserView:
    return UserView(
        id=UserId(row.id),
        email=row.email,
        name=row.name,
        role=Role(row.role),
        is_active=row.is_active,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


@dataclass(frozen=True)
class UserServices:
    passwords: Passwords
    clock: Clock

    def create_user(
        self,
        session: Session,
        *,
        email: str,
        password: str,
        actor: Actor,
        name: str | None = None,
        role: Role | str = Role.MEMBER,
    ) -> UserView:
        email = normalize_email(email)
        role = parse_role(role)
        check_password_policy(password, email)
        if find_user_by_email(session, email) is not None:
            raise ConflictError(f"a user with email {email} already exists", field="email")
        now = self.clock.now()
        row = UserRow(
            email=email,
            name=clean_name(name, email),
            password_hash=self.passwords.hash(password),
            role=role.value,
            is_active=True,
            session_version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        self._audit(session, actor, AuthAction.USER_CREATED, row, {"email": email, "role": role})
        session.commit()
        return to_view(row)

    def get_user(self, session: Session, user_id: int) -> UserView:
        return to_view(_get_row(session, user_id))

    def find_user(self, session: Session, email: str) -> UserView | None:
        row = find_user_by_email(session, email.strip().lower())
        return None if row is None else to_view(row)

    def list_users(
        self, session: Session, *, after_id: int | None = None, limit: int = 100
    ) -> UserPage:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError(f"limit must be between 1 and {MAX_PAGE_SIZE}", field="limit")
        query = select(UserRow).order_by(UserRow.id).limit(limit + 1)
        if after_id is not None:
            query = query.where(UserRow.id > after_id)
        rows = list(session.scalars(query))
        items = tuple(to_view(row) for row in rows[:limit])
        return UserPage(items, items[-1].id if len(rows) > limit else None)

    def update_user(
        self,
        session: Session,
        user_id: int,
        *,
        actor: Actor,
        name: str | None = None,
        role: Role | str | None = None,
        is_active: bool | None = None,
        password: str | None = None,
    ) -> UserView:
        """An admin's edit; refuses to leave Herald without an active admin."""
        row = _get_row(session, user_id)
        changes: dict[str, Any] = {}
        if name is not None and clean_name(name, row.email) != row.name:
            row.name = changes["name"] = clean_name(name, row.email)
        if role is not None and parse_role(role).value != row.role:
            row.role = changes["role"] = parse_role(role).value
        if is_active is not None and is_active != row.is_active:
            row.is_active = changes["is_active"] = is_active
        if changes.get("role") == Role.MEMBER or changes.get("is_active") is False:
            self._keep_an_admin(session, row)
        if password is not None:
            self._set_password(row, password)
            changes["password_changed"] = True
        if changes.get("is_active") is False or password is not None:
            row.session_version += 1
        if changes:
            row.updated_at = self.clock.now()
            self._audit(session, actor, _action_for(changes), row, changes)
        session.commit()
        return to_view(row)

    def deactivate_user(self, session: Session, user_id: int, *, actor: Actor) -> UserView:
        return self.update_user(session, user_id, actor=actor, is_active=False)

    def change_own_password(
        self,
        session: Session,
        user_id: int,
        *,
        current_password: str,
        new_password: str,
        actor: Actor,
    ) -> UserView:
        """The user's own change: proves knowledge of the current password first."""
        row = _get_row(session, user_id)
        if not self.passwords.verify(row.password_hash, current_password):
            # Not an AuthenticationError: the caller is signed in, the input is wrong.
            raise ValidationError(
                "the current password is not correct",
                code="invalid_credentials",
                field="current_password",
            )
        self._set_password(row, new_password)
        row.session_version += 1
        row.updated_at = self.clock.now()
        self._audit(session, actor, AuthAction.USER_PASSWORD_CHANGED, row, {})
        session.commit()
        return to_view(row)

    def end_sessions(self, session: Session, user_id: int, *, actor: Actor) -> None:
        """Log the user out everywhere: every cookie issued so far stops working."""
        row = _get_row(session, user_id)
        row.session_version += 1
        self._audit(session, actor, AuthAction.LOGOUT, row, {})
        session.commit()

    def principal_for_session(
        self, session: Session, user_id: int, session_version: int
    ) -> Principal | None:
        """The user behind a session cookie, if that session is still valid."""
        row = session.get(UserRow, user_id)
        if row is None or not row.is_active or row.session_version != session_version:
            return None
        return Principal.for_user(row.id, row.email, row.name, Role(row.role))

    def session_version(self, session: Session, user_id: int) -> int:
        return _get_row(session, user_id).session_version

    def ensure_first_admin(
        self, session: Session, *, email: str, password: str, actor: Actor
    ) -> UserView | None:
        """Create an admin when Herald has no user at all; otherwise do nothing."""
        if count_users(session) > 0:
            return None
        return self.create_user(
            session, email=email, password=password, name=None, role=Role.ADMIN, actor=actor
        )

    def _set_password(self, row: UserRow, password: str) -> None:
        check_password_policy(password, row.email)
        row.password_hash = self.passwords.hash(password)

    def _keep_an_admin(self, session: Session, row: UserRow) -> None:
        session.flush()
        if count_users(session, role=Role.ADMIN.value, active_only=True) == 0:
            raise ConflictError(
                f"{row.email} is the last active admin; make another user admin first",
                field="role" if row.is_active else "is_active",
            )

    def _audit(
        self,
        session: Session,
        actor: Actor,
        action: AuthAction,
        row: UserRow,
        details: dict[str, Any],
    ) -> None:
        record_audit(
            session, actor, action, AuditTarget.of("user", row.id), details, clock=self.clock
        )


def _action_for(changes: dict[str, Any]) -> AuthAction:
    if changes.get("is_active") is False:
        return AuthAction.USER_DEACTIVATED
    if set(changes) == {"password_changed"}:
        return AuthAction.USER_PASSWORD_CHANGED
    return AuthAction.USER_UPDATED


def _get_row(session: Session, user_id: int) -> UserRow:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"user {user_id} does not exist", field="user_id")
    return row


def bootstrap_admin(herald: Herald) -> UserView | None:
    """At start: create the admin named by HERALD_ADMIN_EMAIL/PASSWORD when no user exists.

    Meant for the demo and first runs of the embedded default; a deployment
    creates its first admin with ``herald user create --admin EMAIL``.
    """
    settings = herald.settings
    with herald.sessions() as session:
        if settings.admin_email and settings.admin_password:
            user = herald.users.ensure_first_admin(
                session,
                email=settings.admin_email,
                password=settings.admin_password.get_secret_value(),
                actor=Actor.system(),
            )
            if user is not None:
                logger.info("created the first admin, %s, from HERALD_ADMIN_EMAIL", user.email)
            return user
        if count_users(session) == 0:
            logger.warning(
                "Herald has no user yet: create one with `herald user create --admin EMAIL` "
                "or set HERALD_ADMIN_EMAIL and HERALD_ADMIN_PASSWORD"
            )
    return None
