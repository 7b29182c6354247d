"""Log output for Herald's processes: text for people, JSON lines for collectors.

Records may carry identifiers as ``extra`` fields (``logger.info("...",
extra={"campaign_id": 7, "journey_id": 42})``) or inherit them from the
surrounding code through :func:`log_context`; the JSON formatter writes every
one of :data:`CONTEXT_FIELDS` that is set as a top-level key, so a log
collector can filter one campaign's or one contact's lines.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

# Identifiers worth filtering logs by; anything else in ``extra`` stays out of
# the output, so a stray object in a log call never breaks the line.
CONTEXT_FIELDS = (
    "campaign_id",
    "journey_id",
    "contact_id",
    "integration_id",
    "message_key",
    "worker_id",
    "provider",
    "error_code",
)
_context: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "herald_log_context", default=None
)
LogFormat = Literal["text", "json"]


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Attach ``fields`` to every record logged inside the block (this task or thread)."""
    merged = {**(_context.get() or {}), **fields}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def record_context(record: logging.LogRecord) -> dict[str, object]:
    """The identifiers of a record: the surrounding context, then its own ``extra``."""
    found: dict[str, object] = dict(_context.get() or {})
    for name in CONTEXT_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            found[name] = value
    return {name: value for name, value in found.items() if name in CONTEXT_FIELDS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {name: _plain(value) for name, value in record_context(record).items()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic line, with the identifiers appended as ``name=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = record_context(record)
        if not context:
            return line
        head, newline, rest = line.partition("\n")
        ids = " ".join(f"{name}={value}" for name, value in context.items())
        return f"{head} [{ids}]{newline}{rest}"


def configure_logging(
    log_format: LogFormat = "text", level: str = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    """Route every logger to one handler on ``stream`` (stderr) in ``log_format``.

    Replaces the root logger's handlers, so calling it twice does not print
    every line twice; uvicorn's loggers propagate to the root and follow suit.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    return handler


def _plain(value: object) -> object:
    return value if isinstance(value, int | float | str | bool) else str(value)
