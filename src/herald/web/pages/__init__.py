"""The browser UI: server-rendered pages, one router per area.

Each area module exposes ``router``; :func:`routers` lists them for the app
factory. Pages use :func:`herald.web.templating.render` and extend
``base.html``; forms carry ``{{ csrf_field() }}``.
"""

from __future__ import annotations

from fastapi import APIRouter

from herald.web.pages import (
    agents,
    campaign_detail,
    campaigns,
    conversations,
    integrations,
    settings,
    suppression,
)


def routers() -> list[APIRouter]:
    return [
        module.router
        for module in (
            campaigns,
            campaign_detail,
            conversations,
            integrations,
            agents,
            suppression,
            settings,
        )
    ]
