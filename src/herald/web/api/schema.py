"""The OpenAPI document of the REST API, as checked in at ``docs/openapi.json``.

``python -m herald.web.api.schema > docs/openapi.json`` (or
``scripts/export-openapi``) writes it; a test fails when the checked-in
copy differs from what the code serves, so the reference cannot drift.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from herald.clock import SystemClock
from herald.services.container import Herald
from herald.settings import Settings


def openapi_schema() -> dict[str, Any]:
    """The schema the app serves at ``/api/v1/openapi.json``, built without a database."""
    from herald.web.app import create_app  # the app imports this package's routers

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(database_url="sqlite://", data_dir=Path(data_dir))
        herald = Herald.create(settings, SystemClock(), migrate=False)
        try:
            return create_app(herald).openapi()
        finally:
            herald.close()


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable, `field` names the input at fault.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["https://herald.dev/problems/not_found"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "examples": ["not_found"]},
        "field": {"type": "string", "examples": ["audience_id"]},
    },
}
PROBLEM_RESPONSE: dict[str, Any] = {
    "description": "A problem: bad input (422), no or bad credentials (401), not allowed "
    "(403), not found (404), conflict (409), too large (413), too many requests (429).",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def describe_problems(schema: dict[str, Any]) -> None:
    """Every API operation answers errors as problem+json: say so in the schema, replacing
    FastAPI's own 422 body (which Herald never sends)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["4XX"] = PROBLEM_RESPONSE


def openapi_text() -> str:
    """Stable text: two-space indent, a final newline."""
    return json.dumps(openapi_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(openapi_text())
