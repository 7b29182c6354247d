"""Signing in with an email and a password, with password guessing slowed down.

Failures are counted per account and per client IP address in the database
(policy in :mod:`herald.domain.login_throttle`). While either is blocked,
attempts are refused before the password is even checked, and are not
counted, so a blocked guesser cannot extend a real user's lockout.

Unknown emails, inactive accounts and wrong passwords get the same answer
after the same work, so the response tells nothing about which accounts
exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.audit import Actor, AuditTarget, AuthAction
from herald.domain.login_throttle import (
    ACCOUNT_POLICY,
    CLIENT_IP_POLICY,
    ThrottlePolicy,
    ThrottleScope,
    retry_after_seconds,
)
from herald.domain.users import EMAIL_MAX_LENGTH
from herald.errors import AuthenticationError, RateLimitedError
from herald.services.audit import record_audit
from herald.services.passwords import Passwords
from herald.services.users import UserView, to_view
from herald.store import users as store
from herald.store.users import UserRow

logger = logging.getLogger(__name__)

UNKNOWN_CLIENT = "unknown"


@dataclass(frozen=True)
class Authenticator:
    passwords: Passwords
    clock: Clock
    policies: dict[ThrottleScope, ThrottlePolicy] = field(
        default_factory=lambda: {
            ThrottleScope.ACCOUNT: ACCOUNT_POLICY,
            ThrottleScope.CLIENT_IP: CLIENT_IP_POLICY,
        }
    )

    def authenticate(
        self, session: Session, email: str, password: str, client_ip: str | None
    ) -> UserView:
        """The user with these credentials, else :class:`AuthenticationError`.

        Raises :class:`RateLimitedError` (code ``login_throttled``) while the
        account or the client is blocked by earlier failures.
        """
        keys = {
            ThrottleScope.ACCOUNT: email.strip().lower()[:EMAIL_MAX_LENGTH],
            ThrottleScope.CLIENT_IP: client_ip or UNKNOWN_CLIENT,
        }
        self._refuse_while_blocked(session, keys)
        row = store.find_user_by_email(session, keys[ThrottleScope.ACCOUNT])
        stored_hash = row.password_hash if row is not None and row.is_active else None
        user_id = row.id if row is not None else None
        # End the transaction before the deliberately slow hash, so no
        # database lock is held while it runs.
        session.commit()
        if stored_hash is None:
            matched = self.passwords.verify_nothing(password)
        else:
            matched = self.passwords.verify(stored_hash, password)
        if not matched or user_id is None:
            self._record_failure(session, keys)
            raise AuthenticationError(
                "email or password is not correct", code="invalid_credentials"
            )
        return self._record_success(session, user_id, password, keys)

    def _refuse_while_blocked(self, session: Session, keys: dict[ThrottleScope, str]) -> None:
        now = self.clock.now()
        wait = max(
            retry_after_seconds(store.find_failures(session, scope, key), now, self.policies[scope])
            for scope, key in keys.items()
        )
        if wait > 0:
            session.rollback()
            logger.info("sign-in refused while throttled (retry in %ss)", wait)
            raise RateLimitedError(
                f"too many failed sign-in attempts; try again in {wait} seconds",
                retry_after_seconds=wait,
                code="login_throttled",
            )

    def _record_failure(self, session: Session, keys: dict[ThrottleScope, str]) -> None:
        now = self.clock.now()
        for scope, key in keys.items():
            forget = timedelta(seconds=self.policies[scope].forget_after_seconds)
            store.record_failure(session, scope, key, now, now - forget)
        longest = max(p.forget_after_seconds for p in self.policies.values())
        store.prune_failures(session, now - timedelta(seconds=longest))
        attempted = keys[ThrottleScope.ACCOUNT]
        # Only something shaped like an email is kept: people sometimes type
        # their password into the email field.
        label = attempted if "@" in attempted and " " not in attempted else None
        actor = Actor.anonymous(keys[ThrottleScope.CLIENT_IP], label)
        record_audit(session, actor, AuthAction.LOGIN_FAILED, clock=self.clock)
        session.commit()

    def _record_success(
        self, session: Session, user_id: int, password: str, keys: dict[ThrottleScope, str]
    ) -> UserView:
        row = session.get(UserRow, user_id)
        assert row is not None
        store.clear_failures(session, ThrottleScope.ACCOUNT, keys[ThrottleScope.ACCOUNT])
        if self.passwords.needs_rehash(row.password_hash):
            row.password_hash = self.passwords.hash(password)
        row.last_login_at = self.clock.now()
        actor = Actor.user(row.id, row.email, keys[ThrottleScope.CLIENT_IP])
        record_audit(
            session,
            actor,
            AuthAction.LOGIN_SUCCEEDED,
            AuditTarget.of("user", row.id),
            clock=self.clock,
        )
        session.commit()
        return to_view(row)
