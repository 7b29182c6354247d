"""Campaign use cases: the builder's three steps, the lifecycle, campaigns as code.

Shared by the API, the CLI and the UI. Every method takes the caller's
``Session`` and commits what it changes. Drafts keep whatever the user set,
even when incomplete; everything is checked when the campaign is reviewed,
scheduled or launched (see :mod:`herald.services.campaign_review`). The
rules every edit keeps are in :mod:`herald.services.campaign_edits`.

A campaign's audience is always its own: uploaded for it, built by quick
add, or a copy of another audience or campaign's audience (never the same
list), so editing one never changes another. Audience work runs in its own
transactions on the session's engine; these methods end the session's
transaction before it starts, so SQLite's single writer is never waited on
by the same thread.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.domain.campaign import CampaignStatus, ensure_editable
from herald.domain.spec import CampaignSpec, ScheduleSpec
from herald.errors import IllegalTransitionError, ValidationError
from herald.services import audiences
from herald.services.agents import AgentChoice
from herald.services.audiences import ProgressCallback, QuickAddResult, Source
from herald.services.campaign_agents import (
    agent_choices,
    default_agent_version,
    latest_version_of,
    pinnable_version,
)
from herald.services.campaign_audiences import audience_profile
from herald.services.campaign_code import ApplyResult, apply_plan, export_spec, plan_apply
from herald.services.campaign_edits import (
    UNSET,
    Changes,
    JourneyInput,
    Unset,
    apply_changes,
    check_inputs,
    checked_name,
    insert_draft,
)
from herald.services.campaign_lifecycle import CampaignLifecycle, Progress
from herald.services.campaign_preview import ContactPreview, preview_step
from herald.services.campaign_review import LaunchBlockedError, Review, build_review
from herald.services.campaign_views import (
    CampaignView,
    engine_of,
    get_row,
    parse_status,
    rollback_on_error,
    view_of,
)
from herald.store.campaigns import CampaignRow

__all__ = [
    "UNSET",
    "CampaignServices",
    "CampaignView",
    "LaunchBlockedError",
    "Progress",
    "Review",
    "audience_profile",
]


class CampaignServices(CampaignLifecycle):
    """The builder's use cases; the lifecycle is inherited from :class:`CampaignLifecycle`."""

    # -- drafts -------------------------------------------------------------

    def create_draft(
        self,
        session: Session,
        *,
        name: str,
        extra_tags: Sequence[str] = (),
        audience_id: int | None = None,
        agent_version_id: int | None = None,
        journey: JourneyInput | None = None,
        default_region: str = "US",
        schedule: ScheduleSpec | None = None,
    ) -> CampaignView:
        """A new draft; anything but the name may be missing or incomplete.

        ``audience_id`` gives the campaign a copy of that audience.
        ``agent_version_id`` must be a published version; without it the
        built-in agent's latest published version is pinned. ``schedule`` is
        the planned start, checked for daylight-saving gaps and overlaps; it
        takes effect when the campaign is launched.
        """
        name = checked_name(name)
        changes = Changes(
            extra_tags=extra_tags,
            journey=journey,
            default_region=default_region,
            schedule=schedule,
        )
        check_inputs(changes)
        version = self._agent_version(session, agent_version_id)
        copy_id = None if audience_id is None else self._copy_audience(session, audience_id, name)
        changes = replace(changes, audience_id=copy_id, agent_version_id=version)
        return insert_draft(session, self._clock, name, changes)

    def update_draft(
        self,
        session: Session,
        campaign_id: int,
        *,
        name: str | Unset = UNSET,
        extra_tags: Sequence[str] | Unset = UNSET,
        audience_id: int | Unset | None = UNSET,
        agent_version_id: int | Unset | None = UNSET,
        journey: JourneyInput | Unset | None = UNSET,
        default_region: str | Unset = UNSET,
        schedule: ScheduleSpec | Unset | None = UNSET,
    ) -> CampaignView:
        """Change what is given, in a draft or scheduled campaign.

        ``audience_id``: the campaign gets a copy of that audience (None
        detaches its audience; its own audience's id changes nothing).
        ``agent_version_id``: None pins the built-in agent again.
        ``schedule`` on a scheduled campaign moves its start (None is refused:
        unschedule instead). A scheduled campaign's checks must still pass; a
        copy made before a refused edit stays in the audience list.
        """
        changes = Changes(
            name=name,
            extra_tags=extra_tags,
            journey=journey,
            default_region=default_region,
            schedule=schedule,
        )
        check_inputs(changes)
        if not isinstance(audience_id, Unset) and audience_id is not None:
            current = self._editable(session, campaign_id)
            if current.audience_id != audience_id:
                audience_id = self._copy_audience(session, audience_id, current.name)
        if not isinstance(agent_version_id, Unset):
            agent_version_id = self._agent_version(session, agent_version_id)
        changes = replace(changes, audience_id=audience_id, agent_version_id=agent_version_id)
        return apply_changes(session, self._clock, campaign_id, changes)

    def delete_draft(self, session: Session, campaign_id: int) -> None:
        """Delete a draft (other statuses are cancelled, not deleted); its audience stays."""
        with rollback_on_error(session):
            row = get_row(session, campaign_id, for_update=True)
            if row.status != CampaignStatus.DRAFT.value:
                raise IllegalTransitionError(
                    f"only drafts can be deleted; campaign {campaign_id} is {row.status} "
                    "(cancel it instead)",
                    code="not_a_draft",
                )
            session.delete(row)
            session.commit()

    def list(
        self, session: Session, *, status: str | None = None, tag: str | None = None
    ) -> list[CampaignView]:
        """Campaigns newest first, drafts included; filtered by status and by any of their tags."""
        query = select(CampaignRow).order_by(CampaignRow.id.desc())
        if status:
            query = query.where(CampaignRow.status == parse_status(status).value)
        views = [view_of(row) for row in session.scalars(query)]
        return [view for view in views if tag is None or tag in view.tags]

    # -- audience -----------------------------------------------------------

    def upload_audience(
        self,
        session: Session,
        campaign_id: int,
        source: Source,
        *,
        filename: str | None = None,
        workers: int = 1,
        on_progress: ProgressCallback | None = None,
    ) -> CampaignView:
        """Import a file as the campaign's new audience (read with the campaign's region)."""
        row = self._editable(session, campaign_id)
        imported = audiences.import_audience(
            engine_of(session),
            source,
            name=row.name,
            clock=self._clock,
            default_region=row.default_region,
            filename=filename,
            workers=workers,
            on_progress=on_progress,
        )
        return self._attach(session, campaign_id, imported.audience.id)

    def reuse_audience(
        self,
        session: Session,
        campaign_id: int,
        *,
        audience_id: int | None = None,
        from_campaign_id: int | None = None,
    ) -> CampaignView:
        """Give the campaign a copy of an audience, or of another campaign's audience."""
        if (audience_id is None) == (from_campaign_id is None):
            raise ValidationError(
                "reuse either an audience or another campaign's audience", field="audience_id"
            )
        if from_campaign_id is not None:
            audience_id = self._audience_of(session, campaign_id, from_campaign_id)
        assert audience_id is not None
        row = self._editable(session, campaign_id)
        return self._attach(
            session, campaign_id, self._copy_audience(session, audience_id, row.name)
        )

    def start_audience(
        self, session: Session, campaign_id: int, *, custom_fields: Sequence[str] = ()
    ) -> CampaignView:
        """A new, empty audience for the campaign (phone, email and ``custom_fields``)."""
        row = self._editable(session, campaign_id)
        record = audiences.create_audience(
            engine_of(session),
            name=row.name,
            clock=self._clock,
            default_region=row.default_region,
            custom_fields=custom_fields,
        )
        return self._attach(session, campaign_id, record.id)

    def add_contact(
        self,
        session: Session,
        campaign_id: int,
        *,
        phone: str | None = None,
        email: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> QuickAddResult:
        """Quick add: one contact into the campaign's audience, validated like an upload row.

        Adding a contact cannot make checks fail, so it is allowed on a
        scheduled campaign without re-checking.
        """
        row = self._editable(session, campaign_id)
        if row.audience_id is None:
            raise ValidationError(
                "the campaign has no audience yet; start one (with its columns) first",
                code="audience_missing",
                field="audience_id",
            )
        return audiences.add_contact(
            engine_of(session), row.audience_id, phone=phone, email=email, fields=fields
        )

    def variables(self, session: Session, campaign_id: int) -> tuple[str, ...]:
        """What a message may use: ``phone``, ``email``, then the audience's columns in order."""
        row = get_row(session, campaign_id)
        if row.audience_id is None:
            return ("phone", "email")
        columns = audience_profile(session, row.audience_id).columns
        return ("phone", "email", *(name for name in columns if name not in ("phone", "email")))

    # -- agent --------------------------------------------------------------

    def agent_choices(self, session: Session) -> builtins.list[AgentChoice]:
        """The agent picker: every agent at its latest published version."""
        return agent_choices(session, self._clock)

    def choose_agent(self, session: Session, campaign_id: int, agent_id: int) -> CampaignView:
        """Pin the agent's latest published version."""
        version = latest_version_of(session, agent_id)
        return apply_changes(
            session, self._clock, campaign_id, Changes(agent_version_id=version.id)
        )

    # -- review -------------------------------------------------------------

    def review(self, session: Session, campaign_id: int) -> Review:
        """The review summary; works on incomplete drafts (what is missing blocks the launch)."""
        return build_review(session, get_row(session, campaign_id), now=self._clock.now())

    def preview(
        self,
        session: Session,
        campaign_id: int,
        *,
        step: str = "primary",
        contact_row: int | None = None,
    ) -> ContactPreview:
        """Render ``step`` (``primary``, ``fallback-1``, ``follow-up``) for a contact (file row)."""
        row = get_row(session, campaign_id)
        return preview_step(session, row, step=step, contact_row=contact_row)

    # -- campaign as code ---------------------------------------------------

    def apply_spec(
        self,
        session: Session,
        spec: CampaignSpec,
        *,
        base_dir: Path,
        campaign_id: int | None = None,
        default_region: str = "US",
        dry_run: bool = False,
        workers: int = 1,
    ) -> ApplyResult:
        """Create or update the campaign a spec describes; see :mod:`.campaign_code`."""
        plan = plan_apply(
            session,
            self._clock,
            spec,
            base_dir=base_dir,
            campaign_id=campaign_id,
            default_region=default_region,
        )
        return apply_plan(session, self._clock, plan, dry_run=dry_run, workers=workers)

    def export_spec(
        self, session: Session, campaign_id: int, *, base_dir: Path | None = None
    ) -> CampaignSpec:
        """The campaign as a spec; its audience path relative to ``base_dir``."""
        return export_spec(session, campaign_id, base_dir=base_dir)

    # -- helpers ------------------------------------------------------------

    def _editable(self, session: Session, campaign_id: int) -> CampaignView:
        """The campaign, if it can still be edited; ends the read transaction."""
        view = self.get(session, campaign_id)
        session.commit()
        ensure_editable(view.status)
        return view

    def _agent_version(self, session: Session, version_id: int | None) -> int:
        if version_id is None:
            return default_agent_version(session, self._clock).id
        version = pinnable_version(session, version_id)
        session.commit()
        return version.id

    def _copy_audience(self, session: Session, audience_id: int, name: str) -> int:
        session.commit()
        copy = audiences.copy_audience(
            engine_of(session), audience_id, name=name, clock=self._clock
        )
        return int(copy.id)

    def _audience_of(self, session: Session, campaign_id: int, other_id: int) -> int:
        if other_id == campaign_id:
            raise ValidationError(
                "a campaign cannot reuse its own audience", field="from_campaign_id"
            )
        other = self.get(session, other_id)
        if other.audience_id is None:
            raise ValidationError(
                f"campaign {other_id} has no audience to reuse", field="from_campaign_id"
            )
        return other.audience_id

    def _attach(self, session: Session, campaign_id: int, audience_id: int) -> CampaignView:
        return apply_changes(session, self._clock, campaign_id, Changes(audience_id=audience_id))
