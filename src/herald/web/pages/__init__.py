"""The browser UI: server-rendered pages, one router per area.

Each area module exposes ``router``; :func:`routers` lists them for the app
factory. Pages use :func:`herald.web.templating.render` and extend
``base.html``; forms carry ``{{ csrf_field() }}``.
"""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    return []
