"""Regular expressions written by users, made safe to run on every inbound message.

Python's ``re`` backtracks and has no timeout, so a pattern such as
``(a+)+$`` can take longer than the age of the universe on a 40-character
reply. Rather than racing a timer, Herald refuses the shapes that cause
exponential backtracking before the pattern is ever used:

- a repeated group (``*``, ``+``, ``{n,}``, ``{m,n}`` with n > 1) that itself
  contains a repetition or an alternation: ``(a+)+``, ``(\\w+\\s?)*``,
  ``(yes|yeah)+``, ``((ab)*c){2,5}``;
- backreferences (``\\1``, ``(?P=name)``), which also defeat linear-time
  reasoning.

And it bounds the polynomial cases that remain: a pattern is at most
:data:`MAX_PATTERN_CHARS` characters and it runs on at most
``MAX_MATCH_CHARS`` characters of text (see :mod:`herald.agents.rules`).
This is a conservative filter, not a proof: it refuses some harmless patterns
(``(ab)+`` is fine) in exchange for never admitting the classic bad ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PATTERN_CHARS = 200
_BOUNDED = re.compile(r"\{(\d*)(,?)(\d*)\}")


class UnsafePatternError(ValueError):
    """The pattern does not compile or could backtrack catastrophically."""


@dataclass
class _Group:
    repeats_inside: bool = False
    alternation: bool = False


def compile_safe(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` case-insensitively, or explain why it is refused."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePatternError(f"pattern is longer than {MAX_PATTERN_CHARS} characters")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise UnsafePatternError(f"pattern does not compile: {exc}") from exc
    _check_shape(pattern)
    return compiled


def _check_shape(pattern: str) -> None:
    """Walk the pattern once, tracking groups, and refuse nested repetition."""
    stack = [_Group()]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if pattern[i + 1 : i + 2].isdigit() and pattern[i + 1] != "0":
                raise UnsafePatternError("backreferences are not allowed")
            i = _after_quantifier(pattern, i + 2, stack[-1])
        elif char == "[":
            i = _after_quantifier(pattern, _class_end(pattern, i), stack[-1])
        elif char == "(":
            if pattern.startswith("(?P=", i):
                raise UnsafePatternError("backreferences are not allowed")
            stack.append(_Group())
            i += 1
        elif char == ")":
            inner = stack.pop()
            i = _close_group(pattern, i + 1, inner, stack[-1])
        else:
            if char == "|":
                stack[-1].alternation = True
            i = _after_quantifier(pattern, i + 1, stack[-1]) if char not in "|^$" else i + 1


def _close_group(pattern: str, i: int, inner: _Group, parent: _Group) -> int:
    repeats, end = _quantifier(pattern, i)
    if repeats and (inner.repeats_inside or inner.alternation):
        raise UnsafePatternError(
            "a repeated group contains a repetition or an alternation "
            f"(near {pattern[max(0, i - 20) : end]!r}); this can backtrack catastrophically"
        )
    parent.repeats_inside = parent.repeats_inside or inner.repeats_inside or repeats
    return end


def _after_quantifier(pattern: str, i: int, group: _Group) -> int:
    repeats, end = _quantifier(pattern, i)
    group.repeats_inside = group.repeats_inside or repeats
    return end


def _quantifier(pattern: str, i: int) -> tuple[bool, int]:
    """Whether a quantifier at ``i`` repeats (max > 1), and where it ends."""
    if i >= len(pattern):
        return False, i
    char = pattern[i]
    if char in "*+":
        return True, _lazy_suffix(pattern, i + 1)
    if char == "?":
        return False, _lazy_suffix(pattern, i + 1)
    bounded = _BOUNDED.match(pattern, i)
    if bounded and (bounded.group(1) or bounded.group(3)):
        low, comma, high = bounded.groups()
        maximum = high or ("" if comma else low)
        repeats = not maximum or int(maximum) > 1
        return repeats, _lazy_suffix(pattern, bounded.end())
    return False, i


def _lazy_suffix(pattern: str, i: int) -> int:
    return i + 1 if pattern[i : i + 1] in ("?", "+") else i


def _class_end(pattern: str, i: int) -> int:
    """Index just past the character class starting at ``pattern[i] == '['``."""
    j = i + 1
    if pattern[j : j + 1] == "^":
        j += 1
    if pattern[j : j + 1] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1
