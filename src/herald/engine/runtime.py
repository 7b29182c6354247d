"""What the engine needs to know about a running campaign, built once.

A campaign's journey does not change while it runs, so its plan, compiled
templates and integration ids are loaded once per process and cached; only
the campaign's status is read again for every batch (it is what pause and
cancel change).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.domain.campaign import CampaignStatus, JourneyDefinition, StepSlot, parse_journey
from herald.domain.channels import CHANNEL_OF_KIND, Channel, IntegrationKind
from herald.domain.journey_plan import CONFIRMED_BY_SILENCE, FollowUp, JourneyPlan, PlannedStep
from herald.domain.preview import CompiledStep
from herald.errors import ConfigurationError, NotFoundError
from herald.store.campaigns import CampaignRow
from herald.store.integrations import IntegrationRow


@dataclass(frozen=True)
class StepRuntime:
    index: int
    slot: StepSlot
    compiled: CompiledStep
    integration_id: int
    integration_kind: IntegrationKind

    @property
    def channel(self) -> Channel:
        return CHANNEL_OF_KIND[self.integration_kind]


@dataclass(frozen=True)
class CampaignRuntime:
    campaign_id: int
    tags: tuple[str, ...]
    plan: JourneyPlan
    steps: tuple[StepRuntime, ...]
    agent_version_id: int | None

    def step(self, index: int) -> StepRuntime:
        return self.steps[index]


def build_plan(journey: JourneyDefinition) -> JourneyPlan:
    """The state machine's plan for a campaign's journey definition."""
    chain = tuple(
        PlannedStep(
            index=index,
            channel=slot.step.channel,
            delivery_window=slot.step.delivery_window,
            is_confirmed_by_silence=slot.step.channel in CONFIRMED_BY_SILENCE,
        )
        for index, slot in enumerate(journey.chain)
    )
    follow_up = None
    if journey.follow_up is not None:
        step = journey.follow_up
        follow_up = FollowUp(
            PlannedStep(
                index=len(chain),
                channel=step.channel,
                delivery_window=step.delivery_window,
                is_confirmed_by_silence=step.channel in CONFIRMED_BY_SILENCE,
            ),
            step.delay,
        )
    return JourneyPlan(chain, follow_up)


class CampaignRuntimes:
    """A per-process cache of campaign runtimes."""

    def __init__(self) -> None:
        self._cache: dict[int, CampaignRuntime] = {}

    def get_many(self, session: Session, campaign_ids: Iterable[int]) -> dict[int, CampaignRuntime]:
        missing = [cid for cid in set(campaign_ids) if cid not in self._cache]
        for campaign_id in missing:
            self._cache[campaign_id] = load_runtime(session, campaign_id)
        return {cid: self._cache[cid] for cid in campaign_ids}


def load_runtime(session: Session, campaign_id: int) -> CampaignRuntime:
    row = session.get(CampaignRow, campaign_id)
    if row is None:
        raise NotFoundError(f"campaign {campaign_id} does not exist")
    if row.journey is None:
        raise ConfigurationError(f"campaign {campaign_id} has no journey")
    journey = parse_journey(row.journey)
    names = journey.integration_names()
    integrations = {
        integration.name: integration
        for integration in session.scalars(
            select(IntegrationRow).where(IntegrationRow.name.in_(names))
        )
    }
    steps = tuple(
        _step_runtime(index, slot, integrations) for index, slot in enumerate(journey.slots)
    )
    return CampaignRuntime(
        campaign_id=row.id,
        tags=(row.tag, *row.extra_tags),
        plan=build_plan(journey),
        steps=steps,
        agent_version_id=row.agent_version_id,
    )


def _step_runtime(
    index: int, slot: StepSlot, integrations: dict[str, IntegrationRow]
) -> StepRuntime:
    integration = integrations.get(slot.step.integration.name)
    if integration is None:
        raise ConfigurationError(
            f"{slot.label}: integration {slot.step.integration.name!r} no longer exists"
        )
    return StepRuntime(
        index=index,
        slot=slot,
        compiled=CompiledStep(slot.step),
        integration_id=integration.id,
        integration_kind=IntegrationKind(integration.kind),
    )


def campaign_statuses(session: Session, campaign_ids: Iterable[int]) -> dict[int, CampaignStatus]:
    query = select(CampaignRow.id, CampaignRow.status).where(CampaignRow.id.in_(set(campaign_ids)))
    return {cid: CampaignStatus(status) for cid, status in session.execute(query)}
