"""How many messages a journey sends, and how long sending takes.

Two bounds, per channel and per integration:

- best case: every contact is delivered at the first step of the chain it
  can be reached on, and replies, so no fallback and no follow-up is sent;
- worst case: every step of the chain is tried for every contact that has
  the data its channel needs (all of them fail through), and the follow-up
  goes to every contact that has the data its channel needs. The two cannot
  both happen to one contact, so this is an upper bound, not a scenario.

Durations are the time the integrations' rate limits need to push those
messages out, integrations sending in parallel. They exclude the waiting
the journey does by design (delivery windows, the follow-up delay).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from herald.domain.audience_profile import AudienceProfile
from herald.domain.campaign import JourneyDefinition
from herald.domain.channels import Channel


@dataclass(frozen=True, slots=True)
class ChannelEstimate:
    channel: Channel
    best: int
    worst: int


@dataclass(frozen=True, slots=True)
class IntegrationLoad:
    """Messages one integration sends, and the seconds its rate limit needs for them.

    Seconds are None when the integration's rate is unknown.
    """

    name: str
    channel: Channel
    best: int
    worst: int
    rate_per_second: float | None

    @property
    def best_seconds(self) -> float | None:
        return _seconds(self.best, self.rate_per_second)

    @property
    def worst_seconds(self) -> float | None:
        return _seconds(self.worst, self.rate_per_second)


@dataclass(frozen=True, slots=True)
class Estimate:
    channels: tuple[ChannelEstimate, ...]
    integrations: tuple[IntegrationLoad, ...]

    @property
    def best_total(self) -> int:
        return sum(item.best for item in self.channels)

    @property
    def worst_total(self) -> int:
        return sum(item.worst for item in self.channels)

    @property
    def best_seconds(self) -> float | None:
        """Sending time in the best case: the slowest integration's; None if a rate is unknown."""
        return _slowest(load.best_seconds for load in self.integrations)

    @property
    def worst_seconds(self) -> float | None:
        return _slowest(load.worst_seconds for load in self.integrations)


def estimate_messages(
    journey: JourneyDefinition,
    audience: AudienceProfile,
    rates: Mapping[str, float | None],
) -> Estimate:
    """Best and worst message counts for ``journey`` over ``audience``.

    ``rates`` maps integration names to messages per second (missing or
    None: unknown, no duration).
    """
    best: Counter[str] = Counter()
    worst: Counter[str] = Counter()
    for group, size in audience.groups().items():
        first = next((slot for slot in journey.chain if slot.step.required_field in group), None)
        if first is not None:
            best[first.step.integration.name] += size
    for slot in journey.slots:
        worst[slot.step.integration.name] += audience.with_field(slot.step.required_field)
    channel_of = {slot.step.integration.name: slot.step.channel for slot in journey.slots}
    loads = tuple(
        IntegrationLoad(name, channel, best[name], worst[name], rates.get(name))
        for name, channel in channel_of.items()
    )
    return Estimate(_per_channel(loads), loads)


def _per_channel(loads: tuple[IntegrationLoad, ...]) -> tuple[ChannelEstimate, ...]:
    channels = dict.fromkeys(load.channel for load in loads)
    return tuple(
        ChannelEstimate(
            channel,
            sum(load.best for load in loads if load.channel is channel),
            sum(load.worst for load in loads if load.channel is channel),
        )
        for channel in channels
    )


def _seconds(messages: int, rate: float | None) -> float | None:
    if rate is None or rate <= 0:
        return None
    return messages / rate


def _slowest(durations: Iterable[float | None]) -> float | None:
    values = list(durations)
    known = [value for value in values if value is not None]
    if len(known) != len(values):
        return None
    return max(known, default=0.0)
