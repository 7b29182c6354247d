"""Message text with ``{{column}}`` variables.

The syntax is deliberately tiny: ``{{ name }}`` inserts the contact's value
for the column ``name``; ``{{ name | there }}`` inserts ``there`` when the
value is missing or blank. Whitespace inside the braces is ignored, the
default keeps its inner spaces (``{{name|my friend}}``) and may be empty
(``{{name|}}`` renders nothing and says so on purpose).

Rendering is plain substitution: a variable is looked up in a mapping and
nothing else happens. There are no expressions, filters, attribute access or
loops, so ``{{__class__}}`` is just an unknown column and ``{% ... %}`` is
just text. In HTML mode the substituted values (and defaults) are
HTML-escaped; the author's own markup around them is kept as written.

There is no escape for a literal ``{{`` or ``}}``: both always belong to a
variable, and an unmatched one is a syntax error naming its line and column.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NoReturn

from herald.errors import ValidationError

CONTACT_VARIABLES: frozenset[str] = frozenset({"phone", "email"})
"""Variables every audience offers, besides its custom columns."""

VARIABLE_NAME = re.compile(r"[^\W\d][\w.\-]*")
_OPEN = "{{"
_CLOSE = "}}"


class TemplateSyntaxError(ValidationError):
    """A template that cannot be parsed; the message names line and column."""

    code = "template_syntax"

    def __init__(self, message: str, *, line: int, column: int, field: str | None) -> None:
        super().__init__(f"{message} at line {line}, column {column}", field=field)
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class Variable:
    """One ``{{ ... }}`` occurrence. ``offset`` is its index in the source."""

    name: str
    default: str | None
    offset: int


@dataclass(frozen=True, slots=True)
class EmptyVariable:
    """A variable that had no value for the contact, and what replaced it."""

    name: str
    default: str | None


@dataclass(frozen=True, slots=True)
class Rendering:
    text: str
    empty: tuple[EmptyVariable, ...]


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text and variables, in order."""

    source: str
    parts: tuple[str | Variable, ...]

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(part for part in self.parts if isinstance(part, Variable))

    @property
    def variable_names(self) -> frozenset[str]:
        return frozenset(variable.name for variable in self.variables)

    @property
    def literal_text(self) -> str:
        """The text without its variables: a lower bound of what it renders to."""
        return "".join(part for part in self.parts if isinstance(part, str))

    def render(self, values: Mapping[str, str | None], *, escape_html: bool = False) -> Rendering:
        """Substitute ``values``; missing or blank values fall back to the default.

        Every missing or blank value is reported in :attr:`Rendering.empty`
        (once per variable name), whether a default covered it or not.
        """
        pieces: list[str] = []
        empty: dict[str, EmptyVariable] = {}
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = values.get(part.name)
            if value is None or not value.strip():
                empty.setdefault(part.name, EmptyVariable(part.name, part.default))
                value = part.default or ""
            pieces.append(html.escape(value, quote=True) if escape_html else value)
        return Rendering("".join(pieces), tuple(empty.values()))


def parse_template(source: str, *, field: str | None = None) -> Template:
    """Parse ``source``; raise :class:`TemplateSyntaxError` for malformed braces.

    ``field`` names the input in errors (e.g. ``journey.primary.content.text``).
    """
    parts: list[str | Variable] = []
    position = 0
    while True:
        start = source.find(_OPEN, position)
        literal_end = len(source) if start < 0 else start
        _refuse_stray_close(source, position, literal_end, field)
        if literal_end > position:
            parts.append(source[position:literal_end])
        if start < 0:
            return Template(source, tuple(parts))
        end = source.find(_CLOSE, start + len(_OPEN))
        if end < 0:
            _fail(source, start, "'{{' is never closed with '}}'", field)
        parts.append(_parse_variable(source, start, end, field))
        position = end + len(_CLOSE)


def available_variables(columns: Iterable[str]) -> frozenset[str]:
    """The variables an audience offers: its custom columns plus phone and email."""
    return frozenset(columns) | CONTACT_VARIABLES


def _parse_variable(source: str, start: int, end: int, field: str | None) -> Variable:
    inner = source[start + len(_OPEN) : end]
    nested = inner.find(_OPEN)
    if nested >= 0:
        _fail(source, start + len(_OPEN) + nested, "'{{' inside a variable", field)
    name, bar, default = inner.partition("|")
    name = name.strip()
    if not name:
        _fail(source, start, "a variable needs a column name, e.g. {{name}}", field)
    if VARIABLE_NAME.fullmatch(name) is None:
        _fail(
            source,
            start,
            f"{name!r} is not a column name (letters, digits, '_', '.', '-'; "
            "starting with a letter or '_')",
            field,
        )
    return Variable(name, default.strip() if bar else None, start)


def _refuse_stray_close(source: str, start: int, end: int, field: str | None) -> None:
    stray = source.find(_CLOSE, start, end)
    if stray >= 0:
        _fail(source, stray, "'}}' without a matching '{{'", field)


def _fail(source: str, offset: int, message: str, field: str | None) -> NoReturn:
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    raise TemplateSyntaxError(message, line=line, column=column, field=field)
