"""The base of Herald's domain value models, and their errors in Herald's terms.

Values that users write (journeys, specs) are frozen Pydantic models so they
serialise to JSON and YAML and validate with the path of each bad key.
Validators raise ``ValueError`` with a plain sentence; :func:`validate_model`
turns Pydantic's errors into one :class:`herald.errors.ValidationError` whose
``field`` is the dotted path of the first bad key
(``journey.fallbacks[0].content.text``) and whose ``problems`` lists all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict

from herald.errors import ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class FrozenModel(BaseModel):
    """Immutable, strict about unknown keys, lenient about YAML numbers in text fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)


@dataclass(frozen=True, slots=True)
class Problem:
    """One invalid key: its dotted path, what is wrong, and its line when read from text."""

    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.field or "(top level)"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.message}"


class ModelValidationError(ValidationError):
    """One or more invalid keys; ``field`` is the first, ``problems`` lists all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        text = "; ".join(str(problem) for problem in problems)
        super().__init__(text, field=first.field or None)
        self.problems = tuple(problems)


def validate_model(
    model: type[ModelT],
    data: Any,
    *,
    root: str = "",
    union_tags: Mapping[str, Collection[str]] | None = None,
) -> ModelT:
    """Build ``model`` from plain data, raising :class:`ModelValidationError`.

    ``union_tags`` maps a field holding a tagged union to its tag values, so
    the tag Pydantic inserts in error locations is left out of the path.
    """
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ModelValidationError(problems_of(exc, root=root, union_tags=union_tags)) from exc


def problems_of(
    exc: pydantic.ValidationError,
    *,
    root: str = "",
    union_tags: Mapping[str, Collection[str]] | None = None,
) -> list[Problem]:
    """Pydantic's errors as (path, sentence) pairs."""
    return [
        Problem(format_path(error["loc"], root=root, union_tags=union_tags), error_sentence(error))
        for error in exc.errors(include_url=False)
    ]


def format_path(
    loc: Sequence[int | str],
    *,
    root: str = "",
    union_tags: Mapping[str, Collection[str]] | None = None,
) -> str:
    """``("journey", "primary", "content", "sms", "text")`` → ``journey.primary.content.text``."""
    tags = union_tags or {}
    text = root
    previous: int | str | None = None
    for item in loc:
        is_tag = isinstance(previous, str) and item in tags.get(previous, ())
        previous = item
        if is_tag:
            continue
        if isinstance(item, int):
            text += f"[{item}]"
        else:
            text = f"{text}.{item}" if text else item
    return text


_MESSAGES = {
    "missing": "a required key is missing",
    "extra_forbidden": "unknown key; check its spelling and indentation",
    "union_tag_not_found": "the key 'type' is required to tell which kind this is",
}


def error_sentence(error: Any) -> str:
    """A Pydantic error dict as a plain sentence."""
    message = _MESSAGES.get(error["type"]) or str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
