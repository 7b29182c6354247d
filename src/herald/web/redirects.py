"""Where a browser may be sent after signing in: only somewhere in Herald itself.

``next`` comes from the query string, so anyone can write a link to
``/login?next=https://evil.example``; following it blindly would make the
login page an open redirect. Only a path on this site is kept.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_TARGET = "/"
MAX_TARGET_LENGTH = 2000


def safe_next(target: str | None, default: str = DEFAULT_TARGET) -> str:
    """``target`` if it is a relative path on this site, else ``default``."""
    if not target or len(target) > MAX_TARGET_LENGTH:
        return default
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target) or "\\" in target:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
