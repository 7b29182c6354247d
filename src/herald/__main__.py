"""Allow ``python -m herald``."""

from __future__ import annotations

from herald.cli.main import run

run()
