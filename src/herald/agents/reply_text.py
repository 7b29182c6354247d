"""The rules agent's reply texts: ``{{field}}`` and ``{{field|default}}``, nothing more.

Plain substitution in one pass: a value is inserted as-is and never read
again, so a contact whose name is ``{{email}}`` gets exactly that text back,
not someone's email. There are no expressions, filters or loops, hence
nothing to execute. (Campaign message templates have their own, richer
renderer; this one is deliberately private to agents.)

Field names are looked up exactly, then ignoring case and accents, among the
contact's fields (custom columns, ``phone``, ``email``) and ``campaign`` (the
campaign's name). A missing or empty field renders its default, else nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from herald.domain.folding import fold

MAX_TEMPLATE_CHARS = 1000
MAX_VALUE_CHARS = 500  # a runaway CSV cell must not turn a reply into an essay
PLACEHOLDER = re.compile(r"\{\{\s*([\w .-]{1,64}?)\s*(?:\|([^{}]{0,200}))?\}\}")


def check_template(text: str) -> None:
    """Raise ``ValueError`` unless ``text`` is a well-formed reply template."""
    if len(text) > MAX_TEMPLATE_CHARS:
        raise ValueError(f"reply is longer than {MAX_TEMPLATE_CHARS} characters")
    if not text.strip():
        raise ValueError("reply is blank")
    rest = PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        raise ValueError(
            "reply has a malformed placeholder: write {{field}} or {{field|default}} "
            "with letters, digits, spaces, '.', '-' or '_' in the name"
        )


def render(text: str, values: Mapping[str, str]) -> str:
    """Substitute every placeholder of ``text`` from ``values`` (see module docstring)."""
    folded = {fold(name): value for name, value in values.items()}

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = values.get(name)
        if value is None:
            value = folded.get(fold(name))
        value = (value or "").strip()[:MAX_VALUE_CHARS]
        return value or (default or "").strip()

    return PLACEHOLDER.sub(substitute, text)
