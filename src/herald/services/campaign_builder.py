"""What the web builder needs beyond the campaign services: live feedback while editing.

The builder shows the derived tag while the name is typed, the uploaded
audience row by row, a live preview and the step's checks while a message
is composed, before anything is saved. These functions compute that
feedback from what the user has entered so far and the stored campaign;
they never change the campaign (removing flagged rows changes its
audience, which only an editable campaign allows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from herald.domain.audience.summary import AudienceSummary
from herald.domain.campaign import CampaignStatus, ensure_editable, parse_journey
from herald.domain.checks import CheckReport, Finding, Severity, check_journey
from herald.domain.modeling import ModelValidationError
from herald.domain.tags import derive_unique_tag
from herald.domain.template_checks import with_template_checks
from herald.errors import ValidationError
from herald.services import audience_row_removal, audience_rows
from herald.services.audience_rows import RowsPage
from herald.services.campaign_audiences import audience_profile, get_audience_record
from herald.services.campaign_preview import ContactPreview, preview_step
from herald.services.campaign_review import integration_states
from herald.services.campaign_views import engine_of, existing_tags, get_row
from herald.services.whatsapp_templates import cached_catalogues
from herald.store import audiences as audience_store
from herald.store.audiences import ContactRecord
from herald.store.campaigns import CampaignRow

CONTACT_CHOICES = 50


@dataclass(frozen=True)
class AudiencePanel:
    """The audience of a campaign as the setup step summarises it."""

    audience_id: int
    name: str
    source_filename: str | None
    summary: AudienceSummary


def suggest_tag(session: Session, campaign_id: int, name: str) -> str:
    """The tag the campaign would get with this name: derived while it is a draft, else fixed."""
    row = get_row(session, campaign_id)
    if row.status != CampaignStatus.DRAFT.value:
        return row.tag
    return derive_unique_tag(name.strip(), existing_tags(session) - {row.tag})


def audience_panel(session: Session, campaign_id: int) -> AudiencePanel | None:
    row = get_row(session, campaign_id)
    if row.audience_id is None:
        return None
    record = get_audience_record(session, row.audience_id)
    return AudiencePanel(
        record.id, record.name, record.source_filename, AudienceSummary.from_dict(record.summary)
    )


def audience_rows_page(
    session: Session,
    campaign_id: int,
    *,
    after: int = 0,
    before: int | None = None,
    limit: int = 50,
    flagged_only: bool = False,
) -> RowsPage | None:
    """A page of the campaign's audience, rows and problems; None without an audience."""
    row = get_row(session, campaign_id)
    if row.audience_id is None:
        return None
    audience_id = row.audience_id
    session.commit()
    return audience_rows.page_rows(
        engine_of(session),
        audience_id,
        after=after,
        before=before,
        limit=limit,
        flagged_only=flagged_only,
    )


def remove_flagged_rows(
    session: Session, campaign_id: int, rows: Sequence[int] | None = None
) -> int:
    """Remove flagged rows of the campaign's audience (all of them when ``rows`` is None)."""
    row = get_row(session, campaign_id)
    ensure_editable(CampaignStatus(row.status))
    if row.audience_id is None:
        raise ValidationError("the campaign has no audience yet", field="audience")
    audience_id = row.audience_id
    session.commit()  # the removal writes in its own transaction
    return audience_row_removal.remove_rows(engine_of(session), audience_id, rows)


def contact_choices(session: Session, campaign_id: int) -> list[ContactRecord]:
    """The first contacts of the audience, to pick one for the preview."""
    row = get_row(session, campaign_id)
    if row.audience_id is None:
        return []
    return audience_store.page_contacts(
        session.connection(), row.audience_id, limit=CONTACT_CHOICES
    )


def preview_unsaved(
    session: Session,
    campaign_id: int,
    journey: Mapping[str, Any],
    *,
    step: str = "primary",
    contact_row: int | None = None,
) -> ContactPreview:
    """Render a step of a journey being edited (not saved yet) for one of the campaign's contacts.

    ValidationError when the journey does not parse, NotFoundError for a row
    that is not a contact.
    """
    stored = get_row(session, campaign_id)
    # A transient row, never added to the session: the stored campaign stays untouched.
    draft = CampaignRow(journey=dict(journey), audience_id=stored.audience_id)
    return preview_step(session, draft, step=step, contact_row=contact_row)


def check_unsaved(session: Session, campaign_id: int, journey: Mapping[str, Any]) -> CheckReport:
    """The pre-launch checks of a journey being edited, against the campaign's audience.

    A journey that does not parse yet reports each problem as an error
    (``journey_invalid``) naming its field; without an audience only those
    can be found.
    """
    try:
        definition = parse_journey(dict(journey))
    except ModelValidationError as exc:
        findings = tuple(
            Finding(
                "journey_invalid",
                Severity.ERROR,
                f"{problem.field}: {problem.message}",
                "Fix it in the message journey.",
                field=problem.field,
            )
            for problem in exc.problems
        )
        return CheckReport(findings, ())
    row = get_row(session, campaign_id)
    if row.audience_id is None:
        missing = Finding(
            "audience_missing",
            Severity.ERROR,
            "the campaign has no audience yet",
            "Upload a file or add contacts in the setup step.",
            field="audience",
        )
        return CheckReport((missing,), ())
    profile = audience_profile(session, row.audience_id)
    report = check_journey(definition, profile, integration_states(session))
    return with_template_checks(report, definition, cached_catalogues(session))
