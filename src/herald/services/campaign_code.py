"""Campaigns as code: apply a spec file to the campaign it describes, export one back.

Applying is planned first, then carried out:

1. **Which campaign.** With an explicit id, that campaign; otherwise the
   campaign whose name equals the spec's name (surrounding spaces ignored,
   case kept), whatever its status. No match creates a draft; two or more
   matches are refused, naming their ids.
2. **What it resolves to.** The agent by name, at the given version or the
   latest published one (the built-in agent without ``agent``); the default
   region from the spec, else the campaign's, else the caller's default;
   the audience file relative to the spec's directory.
3. **What changes.** The campaign as a spec (from its row) against the spec
   as resolved, as lines from :func:`herald.domain.specdiff.diff_data`.
   Nothing changes → nothing is written, whatever the campaign's status.
4. **The audience.** The file's SHA-256 is kept on the campaign. It is
   imported as a new audience only when the campaign has none from a file,
   or the content or the default region changed; the same bytes under
   another path are not imported again.
5. **Writing.** Through :mod:`herald.services.campaign_edits`, so a
   started campaign refuses changes and a scheduled one must keep passing
   its checks. A schedule in the spec is the planned start of a draft
   (``herald campaign launch`` uses it); on a scheduled campaign it moves
   the start.

Exporting writes the row back as a spec, with the pinned agent version made
explicit, so applying an export changes nothing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.audience.pipeline import checked_region
from herald.domain.campaign import CampaignStatus, JourneyDefinition, ensure_editable, parse_journey
from herald.domain.spec import CampaignSpec, ScheduleSpec, SpecChange, spec_to_data
from herald.domain.specdiff import ChangeKind, diff_data
from herald.errors import (
    ConflictError,
    HeraldError,
    IllegalTransitionError,
    UnreadableFileError,
    ValidationError,
)
from herald.services.audiences import ImportedAudience, import_audience
from herald.services.campaign_agents import PinnedAgent, pinned_agent, resolve_agent
from herald.services.campaign_edits import (
    UNSET,
    AudienceSource,
    Changes,
    apply_changes,
    check_inputs,
    insert_draft,
)
from herald.services.campaign_views import (
    CampaignView,
    engine_of,
    get_row,
    parse_local,
    view_of,
)
from herald.store.campaigns import CampaignRow

HASH_CHUNK_BYTES = 1 << 20
SHOWN_HASH_CHARACTERS = 12


@dataclass(frozen=True)
class AudienceFile:
    """The spec's audience file: as written, where it resolved to, and its content hash."""

    written: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class ApplyPlan:
    """What applying a spec will do. ``spec`` is resolved: agent version, region, trimmed name."""

    spec: CampaignSpec
    campaign: CampaignView | None
    changes: tuple[SpecChange, ...]
    agent: PinnedAgent
    audience_file: AudienceFile | None
    imports_audience: bool

    @property
    def creates(self) -> bool:
        return self.campaign is None

    @property
    def has_changes(self) -> bool:
        return self.creates or bool(self.changes)

    def refusal(self) -> HeraldError | None:
        """Why these changes cannot be applied to the campaign as it is, if they cannot."""
        view = self.campaign
        if view is None or not self.changes:
            return None
        try:
            ensure_editable(view.status)
        except IllegalTransitionError as exc:
            return exc
        if view.status is CampaignStatus.SCHEDULED and self.spec.schedule is None:
            return ConflictError(
                f"campaign {view.id} is scheduled: its spec needs a schedule "
                f"(or run `herald campaign unschedule {view.id}` first)",
                code="schedule_required",
                field="schedule",
            )
        return None


@dataclass(frozen=True)
class ApplyResult:
    plan: ApplyPlan
    campaign: CampaignView | None
    """The campaign after applying; None after a dry run that would create one."""
    imported: ImportedAudience | None
    applied: bool


def plan_apply(
    session: Session,
    clock: Clock,
    spec: CampaignSpec,
    *,
    base_dir: Path,
    campaign_id: int | None,
    default_region: str,
) -> ApplyPlan:
    """Resolve ``spec`` against the database and the file system; writes nothing."""
    name = spec.name.strip()
    target = _target(session, name, campaign_id)
    agent = resolve_agent(session, spec.agent, clock)
    fallback = default_region if target is None else target.default_region
    region = checked_region(spec.default_region or fallback)
    audience = None if spec.audience is None else read_audience_file(base_dir, spec.audience)
    resolved = spec.model_copy(
        update={"name": name, "agent": agent.as_ref(), "default_region": region}
    )
    changes = _changes(session, target, resolved, audience, base_dir)
    imports = audience is not None and (
        target is None
        or target.audience_id is None
        or target.audience_source_sha256 != audience.sha256
        or target.default_region != region
    )
    view = None if target is None else view_of(target)
    session.commit()  # ends the read transaction before any import writes
    return ApplyPlan(resolved, view, changes, agent, audience, imports)


def apply_plan(
    session: Session, clock: Clock, plan: ApplyPlan, *, dry_run: bool, workers: int = 1
) -> ApplyResult:
    """Carry out ``plan``; raises :meth:`ApplyPlan.refusal` (a dry run only reports it)."""
    if dry_run or not plan.has_changes:
        return ApplyResult(plan, plan.campaign, None, applied=False)
    refusal = plan.refusal()
    if refusal is not None:
        raise refusal
    spec = plan.spec
    changes = Changes(
        name=spec.name,
        extra_tags=spec.tags,
        agent_version_id=plan.agent.version.id,
        journey=spec.journey,
        default_region=spec.default_region or UNSET,
        schedule=spec.schedule,
    )
    check_inputs(changes)
    imported = None
    if plan.audience_file is not None:
        source = AudienceSource(str(plan.audience_file.path), plan.audience_file.sha256)
        changes = replace(changes, audience_source=source)
        if plan.imports_audience:
            imported = _import(session, clock, plan.audience_file, spec, workers)
            changes = replace(changes, audience_id=int(imported.audience.id))
    if plan.campaign is None:
        view = insert_draft(session, clock, spec.name, changes)
    else:
        view = apply_changes(session, clock, plan.campaign.id, changes)
    return ApplyResult(plan, view, imported, applied=True)


def _import(
    session: Session, clock: Clock, audience: AudienceFile, spec: CampaignSpec, workers: int
) -> ImportedAudience:
    assert spec.default_region is not None  # resolved by plan_apply
    return import_audience(
        engine_of(session),
        audience.path,
        name=spec.name,
        clock=clock,
        default_region=spec.default_region,
        workers=workers,
    )


def export_spec(session: Session, campaign_id: int, *, base_dir: Path | None) -> CampaignSpec:
    """The campaign as a spec; ValidationError while its journey is missing or invalid."""
    row = get_row(session, campaign_id)
    if row.journey is None:
        raise ValidationError(
            f"campaign {campaign_id} has no message journey yet, so it has no spec",
            field="journey",
        )
    pinned = pinned_agent(session, row.agent_version_id)
    audience = None
    if row.audience_source_path is not None:
        audience = _relative(Path(row.audience_source_path), base_dir)
    return CampaignSpec(
        name=row.name,
        tags=tuple(row.extra_tags),
        agent=None if pinned is None else pinned.as_ref(),
        audience=audience,
        default_region=row.default_region,
        journey=parse_journey(row.journey),
        schedule=_schedule_of(row),
    )


def read_audience_file(base_dir: Path, written: str) -> AudienceFile:
    """Resolve the spec's audience path and hash its content (streamed)."""
    path = (base_dir / written).resolve()
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
    except OSError as exc:
        raise UnreadableFileError(
            f"cannot read the audience file {path} (audience: {written}): {exc.strerror}",
            field="audience",
        ) from exc
    return AudienceFile(written, path, digest.hexdigest())


def _target(session: Session, name: str, campaign_id: int | None) -> CampaignRow | None:
    if campaign_id is not None:
        return get_row(session, campaign_id)
    rows = list(session.scalars(select(CampaignRow).where(CampaignRow.name == name)))
    if len(rows) > 1:
        ids = ", ".join(str(row.id) for row in sorted(rows, key=lambda row: row.id))
        raise ConflictError(
            f"{len(rows)} campaigns are named {name!r} (ids {ids}); say which one to update "
            "with its id (herald campaign apply --id ID)",
            code="ambiguous_name",
            field="name",
        )
    return rows[0] if rows else None


def _changes(
    session: Session,
    target: CampaignRow | None,
    resolved: CampaignSpec,
    audience: AudienceFile | None,
    base_dir: Path,
) -> tuple[SpecChange, ...]:
    after = spec_to_data(resolved)
    if target is None:
        # Against an empty journey, so each new step gets its own line.
        skeleton: dict[str, Any] = {"fallbacks": []} if "fallbacks" in after["journey"] else {}
        return diff_data({"journey": skeleton}, after)
    before = _current_data(session, target, audience, base_dir)
    changes = diff_data(before, after)
    if (
        audience is not None
        and target.audience_source_path == str(audience.path)
        and target.audience_source_sha256 != audience.sha256
    ):
        old = f"{audience.written} (sha256 {_short(target.audience_source_sha256)})"
        new = f"{audience.written} (sha256 {_short(audience.sha256)})"
        changes = (*changes, SpecChange("audience", ChangeKind.CHANGED, old, new))
    return changes


def _current_data(
    session: Session, row: CampaignRow, audience: AudienceFile | None, base_dir: Path
) -> dict[str, Any]:
    """The campaign in the spec's shape; a draft's invalid journey is compared as stored."""
    data: dict[str, Any] = {"name": row.name}
    if row.extra_tags:
        data["tags"] = list(row.extra_tags)
    pinned = pinned_agent(session, row.agent_version_id)
    if pinned is not None:
        data["agent"] = pinned.as_ref().model_dump(mode="json", exclude_none=True)
    if audience is not None and row.audience_id is not None:
        data["audience"] = _current_audience(row, audience, base_dir)
    data["default_region"] = row.default_region
    if row.journey is not None:
        data["journey"] = _journey_data(row.journey)
    schedule = _schedule_of(row)
    if schedule is not None:
        data["schedule"] = schedule.model_dump(mode="json", exclude_none=True)
    return data


def _current_audience(row: CampaignRow, audience: AudienceFile, base_dir: Path) -> str:
    if row.audience_source_path is None:
        return f"audience {row.audience_id} (not from a spec file)"
    if row.audience_source_path == str(audience.path):
        return audience.written
    return _relative(Path(row.audience_source_path), base_dir)


def _journey_data(stored: dict[str, Any]) -> Any:
    try:
        journey: JourneyDefinition = parse_journey(stored)
    except ValidationError:
        return stored
    # The spec's own serialisation, so a journey compares equal to its spec.
    return spec_to_data(CampaignSpec(name="-", journey=journey))["journey"]


def _schedule_of(row: CampaignRow) -> ScheduleSpec | None:
    if row.schedule_local is None or row.schedule_timezone is None:
        return None
    return ScheduleSpec(
        at=parse_local(row.schedule_local),
        timezone=row.schedule_timezone,
        utc_offset=row.schedule_utc_offset,
    )


def _relative(path: Path, base_dir: Path | None) -> str:
    if base_dir is None:
        return str(path)
    return os.path.relpath(path, base_dir.resolve())


def _short(sha256: str | None) -> str:
    return "none" if sha256 is None else sha256[:SHOWN_HASH_CHARACTERS]
