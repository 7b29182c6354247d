"""Every router of the REST API, in the order the reference lists them."""

from __future__ import annotations

from fastapi import APIRouter

from herald.web.api import (
    agents,
    api_keys,
    audiences,
    audit,
    campaign_actions,
    campaign_activity,
    campaigns,
    conversations,
    integrations,
    me,
    suppression,
    users,
    webhooks,
    whatsapp_templates,
)


def api_routers() -> list[APIRouter]:
    return [
        me.router,
        audiences.router,
        integrations.router,
        whatsapp_templates.router,
        agents.router,
        campaigns.router,
        campaign_actions.router,
        campaign_activity.router,
        conversations.router,
        suppression.router,
        webhooks.router,
        users.router,
        api_keys.router,
        audit.router,
    ]
