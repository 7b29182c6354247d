"""Idempotent POSTs: a retried request returns the first response instead of running again.

The flow for one request carrying ``Idempotency-Key``::

    begin(key, fingerprint) ── CLAIMED ──> run ──> finish(response)   (stored for 24 h)
                            │                 └──> abandon()          (5xx or crash: retry runs)
                            ├─ REPLAY ──────> the stored response
                            ├─ IN_PROGRESS ─> 409, retry shortly
                            └─ MISMATCH ────> 422, the key was used for another request

Keys are per caller (a user or an API key), so two clients cannot collide.
A claim whose request died is taken over after :data:`LOCK_SECONDS`; keys live
:data:`KEY_LIFETIME_SECONDS`, and a caller's expired keys are deleted at its next claim.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from herald.clock import Clock
from herald.errors import ConflictError, ValidationError
from herald.store.encryption import SecretBox
from herald.store.idempotency import (
    Claim,
    ClaimOutcome,
    NewClaim,
    StoredResponse,
    claim_key,
    complete_key,
    release_key,
)

KEY_MAX_LENGTH = 255
LOCK_SECONDS = 60
KEY_LIFETIME_SECONDS = 24 * 3600
HEADER = "Idempotency-Key"

__all__ = [
    "HEADER",
    "IdempotencyStore",
    "NewClaim",
    "StoredResponse",
    "checked_key",
    "fingerprint",
]


def checked_key(raw: str) -> str:
    """The key as given, if it is 1 to 255 visible ASCII characters."""
    if not 1 <= len(raw) <= KEY_MAX_LENGTH or not all(33 <= ord(ch) <= 126 for ch in raw):
        raise ValidationError(
            f"{HEADER} must be 1 to {KEY_MAX_LENGTH} visible ASCII characters (a UUID is ideal)",
            code="invalid_idempotency_key",
            field=HEADER,
        )
    return raw


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same": method, path, query and body bytes."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode()):
        digest.update(part)
        digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


class IdempotencyStore:
    """The claim / finish / abandon steps over the database; each commits.

    Stored response bodies are encrypted with the secret box: some first
    responses are the only place a secret is ever shown (a new API key's
    token, a webhook subscription's signing secret), and a replay must show
    it again without the database or its logs ever holding it in clear.
    """

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, box: SecretBox) -> None:
        self._sessions = sessions
        self._clock = clock
        self._box = box

    def begin(self, claim: NewClaim) -> StoredResponse | None:
        """None when the request must run now; the stored response for a replay.

        Raises ConflictError while the first request still runs, and
        ValidationError when the key was used with another request.
        """
        with self._sessions() as session:
            decided = claim_key(
                session,
                claim,
                now=self._clock.now(),
                lock=timedelta(seconds=LOCK_SECONDS),
                ttl=timedelta(seconds=KEY_LIFETIME_SECONDS),
            )
        stored = _decision(decided)
        if stored is None:
            return None
        body = self._box.decrypt(stored.body.decode("ascii")).encode("utf-8")
        return StoredResponse(stored.status_code, stored.headers, body)

    def finish(self, principal: str, key: str, response: StoredResponse) -> None:
        sealed = self._box.encrypt(response.body.decode("utf-8", "replace")).encode("ascii")
        with self._sessions() as session:
            complete_key(
                session,
                principal,
                key,
                StoredResponse(response.status_code, response.headers, sealed),
            )

    def abandon(self, principal: str, key: str) -> None:
        with self._sessions() as session:
            release_key(session, principal, key)


def _decision(decided: Claim) -> StoredResponse | None:
    if decided.outcome is ClaimOutcome.CLAIMED:
        return None
    if decided.outcome is ClaimOutcome.REPLAY:
        assert decided.response is not None
        return decided.response
    if decided.outcome is ClaimOutcome.MISMATCH:
        raise ValidationError(
            f"this {HEADER} was already used for a different request; "
            "use a new key for a new request",
            code="idempotency_key_reused",
            field=HEADER,
        )
    raise ConflictError(
        f"a request with this {HEADER} is still being processed; retry in a moment",
        code="idempotency_in_progress",
        field=HEADER,
    )
