"""Server-rendered pages: the Jinja2 environment and the context every page gets.

Every template receives ``current_user`` (a :class:`Principal` or None),
``csrf_token`` (put it in each form as ``{{ csrf_field() }}``) and
``app_name``. Autoescaping is on, so values are always HTML-escaped unless
a template says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from herald.services.container import Herald
from herald.web.auth import optional_principal
from herald.web.csrf import CSRF_FIELD
from herald.web.sessions import browser_session

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
APP_NAME = "Herald"
# The main navigation: every page area, in the order people use them.
NAV_LINKS = (
    ("/campaigns", "Campaigns"),
    ("/conversations", "Conversations"),
    ("/integrations", "Integrations"),
    ("/agents", "Agents"),
    ("/suppression", "Suppression list"),
    ("/settings", "Settings"),
)


def build_templates() -> Jinja2Templates:
    return Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[page_context])


def page_context(request: Request) -> dict[str, Any]:
    herald = request.app.state.herald
    assert isinstance(herald, Herald)
    token = browser_session(request).csrf_token(herald.session_clock.now())

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, escape(token)
        )

    return {
        "app_name": APP_NAME,
        "nav_links": NAV_LINKS,
        "current_user": optional_principal(request),
        "csrf_token": token,
        "csrf_field": csrf_field,
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page; blocking (database) when the user is not yet resolved, so call it
    from a ``def`` route."""
    templates = request.app.state.templates
    assert isinstance(templates, Jinja2Templates)
    response = templates.TemplateResponse(
        request, name, context or {}, status_code=status_code, headers=headers
    )
    # Pages show data that belongs to one signed-in user: never store them.
    response.headers.setdefault("Cache-Control", "no-store")
    return response
