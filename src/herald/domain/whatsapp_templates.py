"""WhatsApp message templates as a business account defines them, and what follows from them.

A send names a template by ``name`` and ``language`` and fills the body's
placeholders (``{{1}}``, ``{{2}}``... or named ones such as
``{{first_name}}``) with positional parameters. Meta refuses a send whose
template is unknown or not approved (132001), paused (132015), disabled
(132016) or given the wrong number of parameters (132000). Knowing the
account's templates lets Herald say so before launch, and show the message
as the person will read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

APPROVED = "APPROVED"
MEDIA_HEADER_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT", "LOCATION"})
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class TemplateDefinition:
    """One language of one template, as the account's template list describes it.

    ``body_parameters`` is the number of distinct placeholders in the body:
    the number of body parameters a send must carry. A media header
    (``IMAGE``, ``VIDEO``, ``DOCUMENT``) needs a media parameter on every send.
    """

    name: str
    language: str
    status: str
    category: str
    body_text: str
    body_parameters: int
    header_format: str | None = None  # TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION or None
    header_parameters: int = 0  # placeholders in a TEXT header (Meta allows one)

    @property
    def is_approved(self) -> bool:
        return self.status == APPROVED

    @property
    def has_media_header(self) -> bool:
        return self.header_format in MEDIA_HEADER_FORMATS

    @property
    def label(self) -> str:
        """``appointment_reminder · es · utility``: how a picker lists it."""
        return f"{self.name} · {self.language} · {self.category.lower()}"


@dataclass(frozen=True, slots=True)
class TemplateCatalogue:
    """What is known of one integration's templates.

    ``templates`` is None when they could never be fetched; ``problem`` says
    why the last attempt failed (the templates of an earlier success stay).
    """

    integration: str
    templates: tuple[TemplateDefinition, ...] | None
    fetched_at: datetime | None = None
    problem: str | None = None
    is_complete: bool = True  # False: the account has more templates than were read

    @property
    def is_known(self) -> bool:
        return self.templates is not None

    def find(self, name: str, language: str) -> TemplateDefinition | None:
        return next(
            (
                item
                for item in self.templates or ()
                if (item.name, item.language) == (name, language)
            ),
            None,
        )

    def approved(self) -> tuple[TemplateDefinition, ...]:
        return tuple(item for item in self.templates or () if item.is_approved)


def count_body_parameters(text: str) -> int:
    """Distinct placeholders in a template body: ``{{1}} … {{2}} … {{1}}`` needs 2."""
    return len({match.group(1) for match in PLACEHOLDER.finditer(text)})


def render_body(text: str, values: Sequence[str]) -> str:
    """The body with its placeholders filled, in order of first appearance.

    Positional placeholders take the n-th value; named ones take values in
    the order they first appear. A placeholder without a value stays as it is.
    """
    order: dict[str, int] = {}
    for match in PLACEHOLDER.finditer(text):
        order.setdefault(match.group(1), len(order))

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        index = int(key) - 1 if key.isdigit() else order[key]
        return values[index] if 0 <= index < len(values) else match.group(0)

    return PLACEHOLDER.sub(fill, text)


def describe_choices(templates: Iterable[TemplateDefinition], *, limit: int = 8) -> str:
    """``appointment_reminder (en, es), hello_world (en)``: approved alternatives in a line."""
    languages: dict[str, list[str]] = {}
    for item in templates:
        languages.setdefault(item.name, []).append(item.language)
    names = sorted(languages)
    listed = [f"{name} ({', '.join(sorted(languages[name]))})" for name in names[:limit]]
    more = len(names) - limit
    if more > 0:
        listed.append(f"and {more} more")
    return ", ".join(listed)
