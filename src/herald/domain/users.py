"""Users and roles: who may sign in, and the rules their details must follow.

Two roles exist. Members run campaigns; admins also manage users, API keys
and read the audit log. Emails identify users and are compared lower-cased,
so ``Ana@Example.com`` and ``ana@example.com`` are one account.
"""

from __future__ import annotations

from enum import StrEnum

from email_validator import EmailNotValidError, validate_email

from herald.errors import ValidationError

PASSWORD_MIN_LENGTH = 12
# Long enough for any passphrase or manager-generated password; short enough
# that nobody can make the server hash megabytes per login attempt.
PASSWORD_MAX_LENGTH = 256
NAME_MAX_LENGTH = 120
EMAIL_MAX_LENGTH = 254


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


def normalize_email(value: str) -> str:
    """The canonical, lower-cased form of a user's email; refuses what is not an address."""
    value = value.strip()
    if not value or len(value) > EMAIL_MAX_LENGTH:
        raise ValidationError(
            f"email must be 1 to {EMAIL_MAX_LENGTH} characters long", field="email"
        )
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"email {value!r} is not valid: {exc}", field="email") from exc
    return checked.normalized.lower()


def clean_name(name: str | None, email: str) -> str:
    """The display name; the email's local part stands in when none is given."""
    name = (name or "").strip() or email.split("@", 1)[0]
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            f"name must be at most {NAME_MAX_LENGTH} characters long", field="name"
        )
    return name


def check_password_policy(password: str, email: str) -> None:
    """Refuse passwords too short, absurdly long, or equal to the account's email.

    Length is the one rule that measurably helps; composition rules only push
    people towards predictable patterns, so there are none.
    """
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationError(
            f"password must be at least {PASSWORD_MIN_LENGTH} characters long",
            field="password",
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationError(
            f"password must be at most {PASSWORD_MAX_LENGTH} characters long",
            field="password",
        )
    if password.strip().lower() in {email.lower(), email.split("@", 1)[0].lower()}:
        raise ValidationError("password must not be the account's email", field="password")


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise ValidationError(f"unknown role {value!r}; use one of {known}", field="role") from None
