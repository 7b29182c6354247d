"""Reading a business account's templates: ``GET /{version}/{waba-id}/message_templates``.

The list comes in cursor pages (``paging.cursors.after``, ``paging.next``
while more remain). Pages are requested with our own URL and the ``after``
cursor rather than by following ``paging.next``, so the access token is
only ever sent to the configured Graph host. The number of pages is
bounded: an account with more templates than that is reported as
truncated, never read forever.

Errors are raised as :class:`TemplateListError` (a ProviderError) with
Meta's own reason; the services turn them into a message on the page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from herald.channels.http import HttpAnswer
from herald.domain.whatsapp_templates import TemplateDefinition, count_body_parameters
from herald.errors import ProviderError

DEFAULT_PAGE_SIZE = 100
DEFAULT_MAX_PAGES = 20

Fetch = Callable[[str], Awaitable[HttpAnswer]]


class TemplateListError(ProviderError):
    """The template list could not be read: unreachable, refused or malformed."""

    code = "whatsapp_templates_unavailable"


@dataclass(frozen=True)
class TemplateList:
    """The account's templates; ``is_complete`` is False when the page bound cut it short."""

    templates: tuple[TemplateDefinition, ...]
    pages: int
    is_complete: bool


async def read_template_list(
    fetch: Fetch,
    url: str,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> TemplateList:
    """Every page of the list at ``url`` through ``fetch`` (a GET with the token), up to
    ``max_pages``."""
    if page_size < 1 or max_pages < 1:
        raise ValueError("page_size and max_pages must be at least 1")
    templates: list[TemplateDefinition] = []
    after: str | None = None
    for page in range(1, max_pages + 1):
        query = {"limit": str(page_size)} | ({"after": after} if after else {})
        answer = await fetch(f"{url}?{urlencode(query)}")
        data = _page_data(answer)
        templates.extend(parse_template(item, position) for position, item in _items(data, page))
        after = _next_cursor(data)
        if after is None:
            return TemplateList(tuple(templates), page, is_complete=True)
    return TemplateList(tuple(templates), max_pages, is_complete=False)


def _page_data(answer: HttpAnswer) -> Mapping[str, Any]:
    try:
        data: Any = answer.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise TemplateListError(f"unreadable answer from the template list (HTTP {answer.status})")
    error = data.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message") or "no message"
        raise TemplateListError(f"WhatsApp error {code}: {message} (HTTP {answer.status})")
    if not 200 <= answer.status < 300:
        raise TemplateListError(f"HTTP {answer.status} from the template list")
    return data


def _items(data: Mapping[str, Any], page: int) -> list[tuple[str, Any]]:
    items = data.get("data")
    if not isinstance(items, list):
        raise TemplateListError(f"template list page {page} has no 'data' list")
    return [(f"page {page}, item {index + 1}", item) for index, item in enumerate(items)]


def _next_cursor(data: Mapping[str, Any]) -> str | None:
    """The ``after`` cursor when Meta says more pages follow (``paging.next``), else None."""
    paging = data.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if not isinstance(after, str) or not after:
        raise TemplateListError("the template list says more pages follow but gives no cursor")
    return after


def parse_template(item: Any, where: str = "template") -> TemplateDefinition:
    """One entry of ``data``; TemplateListError naming the entry and field when malformed."""
    if not isinstance(item, dict):
        raise TemplateListError(f"{where}: expected an object")
    fields = {key: item.get(key) for key in ("name", "language", "status")}
    for key, value in fields.items():
        if not isinstance(value, str) or not value.strip():
            raise TemplateListError(f"{where}: '{key}' is missing or not text")
    components = item.get("components", [])
    if not isinstance(components, list):
        raise TemplateListError(f"{where}: 'components' is not a list")
    body = _component(components, "BODY")
    header = _component(components, "HEADER")
    body_text = body.get("text") if body else ""
    if not isinstance(body_text, str):
        raise TemplateListError(f"{where}: the BODY text is not text")
    category = item.get("category")
    header_format = header.get("format") if header else None
    header_text = header.get("text") if header else None
    return TemplateDefinition(
        name=str(fields["name"]),
        language=str(fields["language"]),
        status=str(fields["status"]).upper(),
        category=str(category).upper() if isinstance(category, str) and category else "UNKNOWN",
        body_text=body_text,
        body_parameters=count_body_parameters(body_text),
        header_format=header_format.upper() if isinstance(header_format, str) else None,
        header_parameters=count_body_parameters(header_text) if isinstance(header_text, str) else 0,
    )


def _component(components: list[Any], kind: str) -> dict[str, Any] | None:
    for component in components:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
            return component
    return None
