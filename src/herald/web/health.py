"""Liveness and readiness, for load balancers and orchestrators.

``/healthz`` says the process answers. ``/readyz`` runs the checks of
:mod:`herald.services.readiness` (database, workers, integrations) and
answers 503 naming each failed check; ``/readyz?check=database`` limits it
to the named checks, for a load balancer in front of web processes that
should keep taking webhooks while workers restart.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from herald.errors import ValidationError
from herald.services.readiness import CHECK_NAMES, check_readiness
from herald.web.auth import PUBLIC
from herald.web.deps import HeraldDep

router = APIRouter(tags=["health"], dependencies=[PUBLIC])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and serving requests."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(
    herald: HeraldDep, check: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    """The deployment can do useful work: each check with ``ok`` or why not."""
    only = frozenset(check or CHECK_NAMES)
    unknown = sorted(only - set(CHECK_NAMES))
    if unknown:
        raise ValidationError(
            f"unknown check {unknown[0]!r}; use one of {', '.join(CHECK_NAMES)}", field="check"
        )
    readiness = await run_in_threadpool(
        check_readiness, herald.engine, herald.read_sessions, herald.clock, only
    )
    body = {
        "status": "ready" if readiness.is_ready else "not ready",
        "checks": {c.name: "ok" if c.is_ok else c.detail for c in readiness.checks},
        "details": {c.name: c.detail for c in readiness.checks},
        "failed": readiness.failed,
    }
    return JSONResponse(body, status_code=200 if readiness.is_ready else 503)
