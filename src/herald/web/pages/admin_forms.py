"""What the administration pages share: reading forms, notices after a redirect, errors.

After a successful POST the pages redirect (POST/redirect/GET) with
``?notice=<code>``; only codes a page lists produce text, so nothing a
link carries is ever shown as-is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from herald.errors import HeraldError
from herald.web.errors import status_for

MAX_FORM_VALUE_CHARS = 100_000


async def read_form(request: Request) -> dict[str, str]:
    """The submitted fields (text only, first value of each), for forms whose
    fields depend on a choice made in the form itself."""
    form = await request.form()
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in values:
            values[key] = value[:MAX_FORM_VALUE_CHARS]
    return values


FormData = Annotated[dict[str, str], Depends(read_form)]


def notice_text(code: str | None, notices: Mapping[str, str]) -> str | None:
    return notices.get(code or "")


def redirect_with_notice(path: str, notice: str, **params: str | int) -> RedirectResponse:
    query = urlencode({"notice": notice, **params})
    return RedirectResponse(f"{path}?{query}", status_code=303)


def sentence(error: HeraldError | str) -> str:
    """An error message as a sentence: capital first letter, final full stop."""
    message = error.message if isinstance(error, HeraldError) else error
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


def error_status(error: HeraldError) -> int:
    """The HTTP status a form re-shown with this error answers with."""
    return status_for(error)
