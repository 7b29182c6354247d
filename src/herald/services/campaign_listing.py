"""The campaigns list as the web UI shows it: one page at a time, filtered in the database.

:meth:`CampaignServices.list <herald.services.campaigns.CampaignServices.list>`
returns every campaign (the CLI prints them all); a browser list must stay
fast with thousands of campaigns, so this pages with ``LIMIT``/``OFFSET``
and filters by status, tag and a search text in SQL. Each item carries the
two numbers the list shows beside the campaign: how many contacts it sends
to and how many have reached an outcome, read for the whole page in two
grouped queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from herald.domain.tags import validate_tag
from herald.errors import ValidationError
from herald.services.campaign_views import CampaignView, parse_status, view_of
from herald.store.audiences import AUDIENCES
from herald.store.campaigns import CampaignRow, completed_counts

MAX_PER_PAGE = 100
MAX_SEARCH_CHARACTERS = 200


@dataclass(frozen=True)
class CampaignListItem:
    """A campaign with its audience size and how many contacts have an outcome."""

    campaign: CampaignView
    audience_size: int
    completed: int

    @property
    def progress_percent(self) -> int:
        if self.audience_size <= 0:
            return 0
        return min(100, round(100 * self.completed / self.audience_size))


@dataclass(frozen=True)
class CampaignPage:
    items: tuple[CampaignListItem, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def list_page(
    session: Session,
    *,
    status: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> CampaignPage:
    """Campaigns newest first, ``per_page`` of them from page ``page`` (1-based).

    ``tag`` matches the derived tag or any extra tag; ``search`` matches the
    name or a tag, ignoring case. Bad values raise a ValidationError naming
    the parameter.
    """
    if page < 1:
        raise ValidationError(f"page {page} does not exist; pages start at 1", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationError(f"per_page must be 1 to {MAX_PER_PAGE}", field="per_page")
    conditions = _conditions(status, tag, search)
    total = session.scalar(select(func.count()).select_from(CampaignRow).where(*conditions))
    query = (
        select(CampaignRow)
        .where(*conditions)
        .order_by(CampaignRow.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = list(session.scalars(query))
    sizes = draft_audience_sizes(session, rows)
    completed = completed_counts(session, [row.id for row in rows])
    items = tuple(
        CampaignListItem(
            campaign=view_of(row),
            audience_size=sizes.get(row.id, row.contact_count),
            completed=completed.get(row.id, 0),
        )
        for row in rows
    )
    return CampaignPage(items, int(total or 0), page, per_page)


def _conditions(status: str | None, tag: str | None, search: str | None) -> list[Any]:
    conditions: list[Any] = []
    if status:
        conditions.append(CampaignRow.status == parse_status(status).value)
    if tag:
        tag = validate_tag(tag.strip(), field="tag")
        conditions.append(_has_tag(tag))
    if search and search.strip():
        text = search.strip().lower()[:MAX_SEARCH_CHARACTERS]
        conditions.append(
            or_(
                func.lower(CampaignRow.name).contains(text, autoescape=True),
                CampaignRow.tag.contains(text, autoescape=True),
                func.lower(cast(CampaignRow.extra_tags, String)).contains(text, autoescape=True),
            )
        )
    return conditions


def _has_tag(tag: str) -> Any:
    # Tags are [a-z0-9-] only (validated above), so the quoted tag cannot
    # hold a LIKE wildcard and matches exactly one element of the JSON list.
    return or_(
        CampaignRow.tag == tag,
        cast(CampaignRow.extra_tags, String).contains(f'"{tag}"', autoescape=True),
    )


def draft_audience_sizes(session: Session, rows: Sequence[CampaignRow]) -> dict[int, int]:
    """Contacts of campaigns not launched yet, from their audience's summary (no count).

    A launched campaign's ``contact_count`` is fixed at launch; before that
    the audience can still change, so its current summary is read.
    """
    pending = {row.audience_id: row.id for row in rows if not row.has_started and row.audience_id}
    if not pending:
        return {}
    query = select(AUDIENCES.c.id, AUDIENCES.c.summary).where(AUDIENCES.c.id.in_(pending))
    return {
        pending[audience_id]: int((summary or {}).get("valid_contacts", 0))
        for audience_id, summary in session.execute(query)
    }
