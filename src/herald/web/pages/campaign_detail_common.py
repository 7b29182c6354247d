"""Small helpers the campaign detail and conversation pages share."""

from __future__ import annotations

from herald.errors import ValidationError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def sentence(message: str) -> str:
    """An error message as a sentence for a page: capital first, full stop last."""
    message = message.strip()
    if not message:
        return message
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "?", "!")) else ".")


def page_size(value: str | None, *, field: str = "limit") -> int:
    """A page size from the query string (default 50), refused outside 1 to 200."""
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    number = whole_number(value, field=field)
    if not 1 <= number <= MAX_PAGE_SIZE:
        raise ValidationError(f"{field} must be 1 to {MAX_PAGE_SIZE}, not {number}", field=field)
    return number


def cursor_id(value: str | None, *, field: str = "after") -> int:
    """A keyset cursor from the query string: the last id of the previous page (0 = start)."""
    if value is None or value == "":
        return 0
    return whole_number(value, field=field)


def whole_number(value: str, *, field: str) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > 18:
        raise ValidationError(f"{field} must be a whole number, not {value[:40]!r}", field=field)
    return int(text)
