"""Password hashing with argon2id.

Hashes carry their own parameters (``$argon2id$v=19$m=...,t=...,p=...``), so
raising the cost later needs no migration: a stored hash made with weaker
parameters still verifies, and is replaced at the user's next login.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class HashParameters:
    time_cost: int
    memory_cost_kib: int
    parallelism: int


# RFC 9106's second recommended option (64 MiB, 3 passes), as argon2-cffi
# uses by default: some tens of milliseconds per login on a small server.
DEFAULT_HASH_PARAMETERS = HashParameters(time_cost=3, memory_cost_kib=64 * 1024, parallelism=4)


class Passwords:
    """Hash and verify passwords; every comparison is done by argon2 in constant time."""

    def __init__(self, parameters: HashParameters = DEFAULT_HASH_PARAMETERS) -> None:
        self.parameters = parameters
        self._hasher = PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost_kib,
            parallelism=parameters.parallelism,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """True when ``password`` matches; a corrupt stored hash never matches."""
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def verify_nothing(self, password: str) -> bool:
        """Spend the time of a real check, for an unknown or inactive account.

        Answering such logins faster would tell a guesser which emails have
        accounts. Always returns False.
        """
        self.verify(self._decoy_hash, password)
        return False

    @cached_property
    def _decoy_hash(self) -> str:
        return self._hasher.hash("decoy password that matches no login attempt")
