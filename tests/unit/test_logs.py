"""Herald's log formats: JSON lines carry the campaign and contact ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from herald.observability.logs import configure_logging, log_context


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_ids_from_extra_and_context(restore_root_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    log = logging.getLogger("herald.engine.test")
    with log_context(campaign_id=7):
        log.info("sent %d messages", 3, extra={"journey_id": 42, "unrelated": object()})
    log.debug("not written at INFO")
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "sent 3 messages"
    assert entry["level"] == "info" and entry["logger"] == "herald.engine.test"
    assert entry["campaign_id"] == 7 and entry["journey_id"] == 42
    assert "unrelated" not in entry
    assert entry["time"].endswith("+00:00")


def test_json_lines_keep_exceptions_on_one_line(restore_root_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    try:
        raise RuntimeError("provider exploded")
    except RuntimeError:
        logging.getLogger("herald").exception("send failed", extra={"message_key": "h1-0"})
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert "RuntimeError: provider exploded" in entry["exception"]
    assert entry["message_key"] == "h1-0"


def test_text_lines_append_ids_and_context_ends_with_the_block(
    restore_root_logging: None,
) -> None:
    stream = io.StringIO()
    configure_logging("text", "INFO", stream)
    log = logging.getLogger("herald")
    with log_context(campaign_id=3):
        log.warning("integration unhealthy", extra={"integration_id": 2})
    log.warning("outside")
    first, second = stream.getvalue().splitlines()
    assert first.endswith("integration unhealthy [campaign_id=3 integration_id=2]")
    assert second.endswith("herald: outside")


def test_configuring_twice_does_not_duplicate_lines(restore_root_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("text", "INFO", stream)
    configure_logging("text", "INFO", stream)
    logging.getLogger("herald").info("once")
    assert len(stream.getvalue().splitlines()) == 1
