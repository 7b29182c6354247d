"""Differences between two plain-data trees, as lines a person reads.

Used to show what ``herald campaign apply`` would change. Paths use the
spec's notation (``journey.fallbacks[0].content.text``). Lists of plain
values (tags) change as a whole; lists of mappings (fallbacks) are compared
position by position; an added or removed journey step is summed up as its
content type and integration. When a mapping's ``type`` differs (an SMS became an
email) the mapping is reported as one replacement rather than field by field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_MISSING: Any = object()
_SHOWN_MAX_CHARACTERS = 80


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class SpecChange:
    """One difference; ``before``/``after`` is None for an added/removed key."""

    path: str
    kind: ChangeKind
    before: Any
    after: Any

    def __str__(self) -> str:
        if self.kind is ChangeKind.ADDED:
            return f"+ {self.path}: {_show(self.after)}"
        if self.kind is ChangeKind.REMOVED:
            return f"- {self.path}: {_show(self.before)}"
        return f"~ {self.path}: {_show(self.before)} → {_show(self.after)}"


def diff_data(before: Any, after: Any, path: str = "") -> tuple[SpecChange, ...]:
    """Every difference from ``before`` to ``after``, in ``after``'s key order."""
    return tuple(_diff(before, after, path))


def _diff(before: Any, after: Any, path: str) -> list[SpecChange]:
    if before is _MISSING:
        return [SpecChange(path, ChangeKind.ADDED, None, after)]
    if after is _MISSING:
        return [SpecChange(path, ChangeKind.REMOVED, before, None)]
    if _same_kind_of_mapping(before, after):
        return _diff_mappings(before, after, path)
    if _lists_of_records(before, after):
        return _diff_lists(before, after, path)
    if before == after:
        return []
    return [SpecChange(path, ChangeKind.CHANGED, before, after)]


def _diff_mappings(before: dict[str, Any], after: dict[str, Any], path: str) -> list[SpecChange]:
    keys = list(after) + [key for key in before if key not in after]
    changes: list[SpecChange] = []
    for key in keys:
        child = f"{path}.{key}" if path else key
        changes.extend(_diff(before.get(key, _MISSING), after.get(key, _MISSING), child))
    return changes


def _diff_lists(before: list[Any], after: list[Any], path: str) -> list[SpecChange]:
    changes: list[SpecChange] = []
    for index in range(max(len(before), len(after))):
        old = before[index] if index < len(before) else _MISSING
        new = after[index] if index < len(after) else _MISSING
        changes.extend(_diff(old, new, f"{path}[{index}]"))
    return changes


def _same_kind_of_mapping(before: Any, after: Any) -> bool:
    both = isinstance(before, dict) and isinstance(after, dict)
    return both and before.get("type") == after.get("type")


def _lists_of_records(before: Any, after: Any) -> bool:
    if not (isinstance(before, list) and isinstance(after, list)):
        return False
    return any(isinstance(item, dict) for item in [*before, *after])


def _show(value: Any) -> str:
    if isinstance(value, dict) and {"integration", "content"} <= value.keys():
        return _describe_step(value)
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > _SHOWN_MAX_CHARACTERS:
        return text[: _SHOWN_MAX_CHARACTERS - 1] + "…"
    return text


def _describe_step(step: dict[str, Any]) -> str:
    """A journey step in a few words: ``sms step via 'clinic-sms'``."""
    content_type = step["content"].get("type", "?") if isinstance(step["content"], dict) else "?"
    integration = step["integration"]
    name = integration.get("name", "?") if isinstance(integration, dict) else "?"
    text = f"{content_type} step via {json.dumps(name, ensure_ascii=False)}"
    if "delay_days" in step:
        text += f" after {step['delay_days']} days"
    return text
