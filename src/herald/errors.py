"""Herald's error tree.

Every failure Herald raises on purpose descends from :class:`HeraldError`, so
the web layer and the CLI can map them in one place (HTTP status / exit code)
and nothing below them needs to know about either::

    HeraldError
    ├── ValidationError        bad input; names the field, row or parameter
    │   └── UnreadableFileError   a file that cannot be read at all
    ├── NotFoundError          the thing asked for does not exist
    ├── ConflictError          the request clashes with current state
    │   └── IllegalTransitionError  e.g. launching a sent campaign
    ├── AuthenticationError    no valid credentials (wrong password, unknown or revoked key)
    ├── PermissionDeniedError  valid credentials without the right (role, key scope, CSRF)
    ├── RateLimitedError       too many attempts; ``retry_after_seconds`` says when to retry
    ├── ConfigurationError     settings that cannot work (placeholder secret, bad URL)
    └── ProviderError          a provider refused or failed
        ├── TransientProviderError  retrying later can succeed
        └── PermanentProviderError  retrying cannot help
"""

from __future__ import annotations


class HeraldError(Exception):
    """Root of every error Herald raises deliberately.

    ``code`` is a stable machine-readable identifier (API bodies, CLI JSON);
    ``field`` names the input at fault when there is one.
    """

    code: str = "herald_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field


class ValidationError(HeraldError):
    code = "invalid"


class UnreadableFileError(ValidationError):
    code = "unreadable_file"


class NotFoundError(HeraldError):
    code = "not_found"


class ConflictError(HeraldError):
    code = "conflict"


class IllegalTransitionError(ConflictError):
    code = "illegal_transition"


class AuthenticationError(HeraldError):
    code = "unauthenticated"


class PermissionDeniedError(HeraldError):
    code = "forbidden"


class RateLimitedError(HeraldError):
    """Refused for now; the same request may succeed after ``retry_after_seconds``."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds


class ConfigurationError(HeraldError):
    code = "configuration"


class ProviderError(HeraldError):
    code = "provider_error"


class TransientProviderError(ProviderError):
    code = "provider_transient"


class PermanentProviderError(ProviderError):
    code = "provider_permanent"
