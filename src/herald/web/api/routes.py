"""Every router of the REST API, in the order the reference lists them."""

from __future__ import annotations

from fastapi import APIRouter

from herald.web.api import api_keys, audiences, audit, me, users


def api_routers() -> list[APIRouter]:
    return [
        me.router,
        audiences.router,
        users.router,
        api_keys.router,
        audit.router,
    ]
