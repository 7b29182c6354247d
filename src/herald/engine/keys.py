"""Correlation keys: how a provider's webhook finds its journey step again.

Every message carries ``h{journey}-{step}``; providers echo it back
(WhatsApp ``biz_opaque_callback_data``, Infobip ``callbackData``, Twilio's
status callback URL, an email header), so a status can be matched even when
the send's own answer was lost. One key per journey step, whatever the
attempt: the sandbox counts accepted sends per key to prove nobody received
a step twice.
"""

from __future__ import annotations

import re

_KEY = re.compile(r"h(\d{1,18})-(\d{1,3})")


def message_key(journey_id: int, step: int) -> str:
    return f"h{journey_id}-{step}"


def parse_message_key(key: str | None) -> tuple[int, int] | None:
    """``(journey_id, step)`` for a key Herald issued, else ``None``."""
    if not key:
        return None
    match = _KEY.fullmatch(key.strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))
