"""Keeping webhook secrets out of access logs.

Infobip's per-message notify URL carries the shared secret in its query
string (``?secret=…``), the only place such a URL can carry it, and Meta's
handshake carries the verify token there (``hub.verify_token=…``). A
server's access log prints the request line, query included, so both would
be written to disk in clear. :class:`QuerySecretFilter` masks them in every
record of the logger it is attached to.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
SECRET_PARAMETERS = ("secret", "hub.verify_token")
ACCESS_LOGGERS = ("uvicorn.access",)

_SECRET_VALUE = re.compile(
    r"(?P<name>(?:^|[?&])(?:" + "|".join(map(re.escape, SECRET_PARAMETERS)) + r")=)[^&\s\"]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with the value of every secret query parameter replaced by a mask."""
    return _SECRET_VALUE.sub(lambda match: match.group("name") + MASK, text)


class QuerySecretFilter(logging.Filter):
    """Rewrites a record's message arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_query_secret_filter() -> None:
    """Attach the filter to the web servers' access loggers, once per process."""
    for name in ACCESS_LOGGERS:
        access = logging.getLogger(name)
        if not any(isinstance(f, QuerySecretFilter) for f in access.filters):
            access.addFilter(QuerySecretFilter())
