"""Email cells: validated by ``email-validator`` (syntax only, no DNS), normalised.

The normalised form is the library's: domain lower-cased (and IDNA-decoded),
local part as written (Unicode NFC). Duplicates are compared ignoring case
(:func:`email_key`), since mailboxes are case-insensitive in practice.

Fast path: a plain ASCII address (dot-atom local part, letters-digits-hyphen
domain labels, an alphabetic top-level domain, within the length limits, not
a special-use domain, not an RFC 2142 role mailbox) is accepted by a regular
expression, and its normalised form is computed the way the library computes
it. Anything else goes to the library. ``tests/unit/audience/test_fast_paths.py``
checks with Hypothesis that every address the fast path accepts is accepted
by the library with the same normalised form.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import email_validator
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_ADDRESS = re.compile(
    rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z])?)"
)
_MAX_ADDRESS_LENGTH = 254
_MAX_DOMAIN_LENGTH = 253
_SPECIAL_USE = re.compile(
    r"(?:^|\.)(?:{})\Z".format("|".join(map(re.escape, email_validator.SPECIAL_USE_DOMAIN_NAMES)))
)
_ROLE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_LIST_SEPARATORS = re.compile(r"[\s,;/|]+")


class EmailCheck(NamedTuple):
    """``normalized`` when valid; otherwise ``several`` lists the addresses of a
    cell holding more than one, or ``error`` says why the address is not valid."""

    normalized: str | None
    error: str | None = None
    several: list[str] | None = None


def normalize_plain_fast(text: str) -> str | None:
    """What the library normalises ``text`` to, for plain ASCII addresses; else ``None``."""
    if len(text) > _MAX_ADDRESS_LENGTH:
        return None
    match = _PLAIN_ADDRESS.fullmatch(text)
    if match is None:
        return None
    local, domain = match.groups()
    domain = domain.lower()
    if len(domain) > _MAX_DOMAIN_LENGTH or "--" in domain:
        return None
    if local.lower() in _ROLE_MAILBOXES or _SPECIAL_USE.search(domain):
        return None
    return f"{local}@{domain}"


def check_email(text: str) -> EmailCheck:
    """Validate one email cell (already stripped, not empty)."""
    fast = normalize_plain_fast(text)
    if fast is not None:
        return EmailCheck(fast)
    several = split_emails(text)
    if several is not None:
        return EmailCheck(None, several=several)
    try:
        validated = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return EmailCheck(None, f"'{text}' is not a valid email address: {exc}")
    return EmailCheck(validated.normalized)


def email_key(normalized: str) -> str:
    """What two addresses are compared on to find duplicates."""
    return normalized.lower()


def split_emails(text: str) -> list[str] | None:
    """The addresses in a cell holding several (``a@x.com; b@y.com``), else ``None``."""
    if text.count("@") < 2:
        return None
    parts = [part for part in _LIST_SEPARATORS.split(text) if "@" in part]
    return parts if len(parts) >= 2 else None


def looks_like_email(text: str) -> bool:
    """Something@something.something: for spotting values in the wrong column."""
    local, at, domain = text.strip().rpartition("@")
    return bool(at and local and "." in domain.strip("."))
