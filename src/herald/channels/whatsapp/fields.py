"""Typed reads of webhook JSON that name the exact path of what is wrong.

A malformed payload raises :class:`herald.errors.ValidationError` with the
JSON path (``entry[0].changes[1].value.statuses[2].id``) as its field, so a
refused webhook says precisely why.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from herald.errors import ValidationError

Json = dict[str, Any]
MAX_PHONE_DIGITS = 15


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def obj(value: Any, path: str) -> Json:
    if not isinstance(value, dict):
        raise ValidationError(f"{path} must be an object, got {type(value).__name__}", field=path)
    return value


def items(
    parent: Json, key: str, path: str, *, required: bool = False
) -> Iterator[tuple[int, Any]]:
    """``parent[key]`` as (index, item) pairs; absent lists are empty unless required."""
    where = _join(path, key)
    value = parent.get(key)
    if value is None:
        if required:
            raise ValidationError(f"{where} is missing", field=where)
        return iter(())
    if not isinstance(value, list):
        raise ValidationError(f"{where} must be a list", field=where)
    return enumerate(value)


def text(parent: Json, key: str, path: str) -> str:
    value = optional_text(parent, key, path)
    if value is None:
        where = _join(path, key)
        raise ValidationError(f"{where} is missing", field=where)
    return value


def optional_text(parent: Json, key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        where = _join(path, key)
        raise ValidationError(f"{where} must be text, got {type(value).__name__}", field=where)
    return value


def unix_time(parent: Json, key: str, path: str) -> datetime:
    """A Unix-seconds timestamp (Meta sends it as a string) as an aware UTC datetime."""
    where = _join(path, key)
    raw = parent.get(key)
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not _is_digits(str(raw).strip()):
        raise ValidationError(f"{where} must be Unix seconds, got {raw!r}", field=where)
    try:
        return datetime.fromtimestamp(int(str(raw).strip()), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValidationError(f"{where} is out of range: {raw!r}", field=where) from exc


def e164(number: str, path: str) -> str:
    """WhatsApp's bare international digits (``34600111222``) as E.164 (``+34600111222``)."""
    digits = number.strip().removeprefix("+")
    if not _is_digits(digits) or not 1 <= len(digits) <= MAX_PHONE_DIGITS or digits[0] == "0":
        raise ValidationError(
            f"{path} is not an international phone number: {number!r}", field=path
        )
    return "+" + digits


def _is_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()
