"""User regular expressions: catastrophic shapes refused before they ever run."""

from __future__ import annotations

import pytest

from herald.agents.regex_safety import MAX_PATTERN_CHARS, UnsafePatternError, compile_safe


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+$",
        r"(a*)*b",
        r"(a|aa)+",
        r"(.*a){12}",
        r"((ab)*c)+",
        r"(\w+\s?)+$",
        r"(?:x+x+)+y",
        r"([a-z]+)*",
        r"(?:yes|yeah){2,}",
        r"((a)+b)+",
    ],
)
def test_nested_repetition_is_refused(pattern: str) -> None:
    with pytest.raises(UnsafePatternError, match="backtrack"):
        compile_safe(pattern)


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?P<x>a)(?P=x)"])
def test_backreferences_are_refused(pattern: str) -> None:
    with pytest.raises(UnsafePatternError, match="backreference"):
        compile_safe(pattern)


def test_compile_errors_are_explained() -> None:
    with pytest.raises(UnsafePatternError, match="does not compile"):
        compile_safe(r"(unclosed")


def test_long_patterns_are_refused() -> None:
    with pytest.raises(UnsafePatternError, match="longer than"):
        compile_safe("a" * (MAX_PATTERN_CHARS + 1))


@pytest.mark.parametrize(
    "pattern",
    [
        r"\bre-?schedul\w*",
        r"(day|time)?",
        r"\d{1,2}(:\d{2})?\s*(am|pm)",
        r"[)(]+",
        r"\(+",
        r"[^]a]+x",
        r"\bcan'?t\s+make\s+it\b",
        r"(?:ab){0,1}c+",
        r"^(yes|yeah|yep)$",
        r"[?¿]",
        r"a{3}",
        r"\x41+",
    ],
)
def test_ordinary_patterns_are_accepted_and_case_insensitive(pattern: str) -> None:
    compiled = compile_safe(pattern)
    assert compiled.flags & 2  # re.IGNORECASE
