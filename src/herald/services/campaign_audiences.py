"""A campaign's audience as the builder shows it: counts, field fill, one contact.

Every campaign sends to an audience of its own: uploaded for it, built by
quick add, or copied from another campaign or audience (see
:class:`~herald.services.campaigns.CampaignServices`). Nothing here loads
the contacts: the profile and the overview are a few counts, and a preview
reads one contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herald.domain.audience_profile import AudienceProfile
from herald.domain.preview import ContactData
from herald.errors import NotFoundError
from herald.store import audiences as store
from herald.store.audiences import CONTACTS, AudienceRecord, ContactRecord


@dataclass(frozen=True)
class FieldFill:
    """One custom column: how many contacts have a value in it."""

    column: str
    variable: str
    filled: int
    fill_rate: float


@dataclass(frozen=True)
class AudienceOverview:
    """The audience part of the review: where it came from, who can be reached, fill."""

    id: int
    name: str
    source_filename: str | None
    copied_from_id: int | None
    total: int
    with_phone: int
    with_email: int
    with_phone_and_email: int
    custom_fields: tuple[FieldFill, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "source_filename": self.source_filename,
            "copied_from_id": self.copied_from_id,
            "total": self.total,
            "with_phone": self.with_phone,
            "with_email": self.with_email,
            "with_phone_and_email": self.with_phone_and_email,
            "custom_fields": [
                {
                    "column": item.column,
                    "variable": item.variable,
                    "filled": item.filled,
                    "fill_rate": item.fill_rate,
                }
                for item in self.custom_fields
            ],
        }


def get_audience_record(session: Session, audience_id: int) -> AudienceRecord:
    return store.get_audience(session.connection(), audience_id)


def audience_profile(session: Session, audience_id: int) -> AudienceProfile:
    """Counts for checks and estimates: addresses from the contacts, fill from the summary."""
    counts = session.execute(
        select(
            func.count(),
            func.count(CONTACTS.c.phone),
            func.count(CONTACTS.c.email),
            # Concatenation is NULL when either side is: counts contacts with both.
            func.count(CONTACTS.c.phone + CONTACTS.c.email),
        ).where(CONTACTS.c.audience_id == audience_id)
    ).one()
    summary = get_audience_record(session, audience_id).summary
    fields = summary.get("custom_fields", [])
    return AudienceProfile(
        columns=tuple(item["variable"] for item in fields),
        total=counts[0],
        with_phone=counts[1],
        with_email=counts[2],
        with_phone_and_email=counts[3],
        non_empty={item["variable"]: min(item["filled"], counts[0]) for item in fields},
    )


def audience_overview(
    session: Session, audience_id: int, profile: AudienceProfile
) -> AudienceOverview:
    record = get_audience_record(session, audience_id)
    fields = tuple(
        FieldFill(
            column=item["header"],
            variable=item["variable"],
            filled=profile.non_empty.get(item["variable"], 0),
            fill_rate=_rate(profile.non_empty.get(item["variable"], 0), profile.total),
        )
        for item in record.summary.get("custom_fields", [])
    )
    return AudienceOverview(
        id=record.id,
        name=record.name,
        source_filename=record.source_filename,
        copied_from_id=record.copied_from_id,
        total=profile.total,
        with_phone=profile.with_phone,
        with_email=profile.with_email,
        with_phone_and_email=profile.with_phone_and_email,
        custom_fields=fields,
    )


def find_contact(session: Session, audience_id: int, row: int | None) -> ContactRecord:
    """The contact at file row ``row``, or the first contact when ``row`` is None."""
    connection = session.connection()
    after = 0 if row is None else row - 1
    page = store.page_contacts(connection, audience_id, after_row=after, limit=1)
    if page and (row is None or page[0].row_number == row):
        return page[0]
    if row is None:
        raise NotFoundError("the audience has no contacts to preview", field="contact")
    raise NotFoundError(
        f"row {row} of the audience is not a contact (rows that were rejected or "
        "duplicates are not contacts; the first contact is at row "
        f"{_first_row(session, audience_id)})",
        field="contact",
    )


def contact_data(contact: ContactRecord) -> ContactData:
    return ContactData(fields=dict(contact.fields), phone=contact.phone, email=contact.email)


def _first_row(session: Session, audience_id: int) -> str:
    page = store.page_contacts(session.connection(), audience_id, limit=1)
    return str(page[0].row_number) if page else "none"


def _rate(filled: int, total: int) -> float:
    return round(filled / total, 4) if total else 0.0
