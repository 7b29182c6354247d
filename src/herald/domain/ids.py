"""Typed identifiers, so a contact id is never passed where a campaign id belongs."""

from __future__ import annotations

from typing import NewType

AudienceId = NewType("AudienceId", int)
ContactId = NewType("ContactId", int)
CampaignId = NewType("CampaignId", int)
JourneyId = NewType("JourneyId", int)
IntegrationId = NewType("IntegrationId", int)
AgentId = NewType("AgentId", int)
AgentVersionId = NewType("AgentVersionId", int)
UserId = NewType("UserId", int)
ApiKeyId = NewType("ApiKeyId", int)
