"""Pre-launch checks: what would go wrong if this journey went out to this audience.

Inputs are plain values so the service can compute them cheaply: the
journey definition, an :class:`~herald.domain.audience_profile.AudienceProfile`
(counts a single SQL query can produce) and the state of the integrations
the journey names. Each :class:`Finding` names the step and the field, says
what is wrong and what to do, and has a severity: errors block the launch,
warnings and infos are shown in the review.

| code | severity | when |
| --- | --- | --- |
| ``empty_audience`` | error | the audience has no contacts |
| ``integration_missing`` | error | no integration has the step's name |
| ``integration_kind_mismatch`` | error | the integration of that name is of another kind |
| ``integration_inactive`` | error | the integration is switched off |
| ``empty_content`` | error | a required text, template name or language is blank |
| ``whatsapp_free_form`` | error | WhatsApp free-form text, refused outside a 24 h window |
| ``unknown_variable`` | error | a variable or bound parameter names no column |
| ``follow_up_delay`` | error | the follow-up delay is outside 1 to 7 days |
| ``nobody_reachable`` | error | no contact has the data any chain step needs |
| ``empty_variable`` | warning (info with a default) | a variable is blank for some contacts |
| ``channel_coverage`` | warning | some contacts lack the data a step needs and skip it |
| ``unreachable_contacts`` | warning | some contacts can be reached by no chain step |
| ``sms_length`` | warning | an SMS needs more than ``max_sms_segments`` parts |
| ``sms_unicode`` | info | a character forces UCS-2 (70 characters per SMS instead of 160) |
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from herald.domain.audience_profile import AudienceProfile, reachable_by_any
from herald.domain.campaign import (
    FOLLOW_UP_MAX_DAYS,
    FOLLOW_UP_MIN_DAYS,
    JourneyDefinition,
    StepSlot,
)
from herald.domain.channels import Channel, ContactField, IntegrationKind
from herald.domain.content import (
    EmailContent,
    SmsContent,
    VariableUse,
    VoiceContent,
    WhatsAppTemplateContent,
    WhatsAppTextContent,
    template_parameters,
    text_fields,
    variable_uses,
)
from herald.domain.sms import SmsEncoding, measure_sms
from herald.errors import ValidationError

DEFAULT_MAX_SMS_SEGMENTS = 3


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class IntegrationState:
    """What the checks and the estimate need to know about one integration."""

    name: str
    kind: IntegrationKind
    is_active: bool
    rate_per_second: float | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    fix: str
    step: str | None = None
    field: str | None = None
    contacts: int | None = None

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}. {self.fix}"


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """How many contacts one step can reach, and how many skip it for lack of data."""

    step: str
    label: str
    channel: Channel
    needs: ContactField
    reachable: int
    skipped: int


@dataclass(frozen=True, slots=True)
class CheckReport:
    findings: tuple[Finding, ...]
    coverage: tuple[CoverageRow, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return self._of(Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return self._of(Severity.WARNING)

    @property
    def infos(self) -> tuple[Finding, ...]:
        return self._of(Severity.INFO)

    @property
    def can_launch(self) -> bool:
        return not self.errors

    def ensure_launchable(self) -> None:
        """Raise a ValidationError listing every blocking finding, if any."""
        if self.errors:
            listed = "; ".join(f"{item.message} ({item.fix})" for item in self.errors)
            raise ValidationError(
                f"the campaign cannot launch: {listed}",
                code="checks_failed",
                field=self.errors[0].field,
            )

    def _of(self, severity: Severity) -> tuple[Finding, ...]:
        return tuple(item for item in self.findings if item.severity is severity)


def check_journey(
    journey: JourneyDefinition,
    audience: AudienceProfile,
    integrations: Iterable[IntegrationState],
    *,
    max_sms_segments: int = DEFAULT_MAX_SMS_SEGMENTS,
) -> CheckReport:
    """Run every check; findings are ordered by severity, then by journey order."""
    by_name = {integration.name: integration for integration in integrations}
    findings: list[Finding] = []
    if audience.total == 0:
        findings.append(_empty_audience())
    for slot in journey.slots:
        findings.extend(_check_integration(slot, by_name))
        findings.extend(_check_content(slot))
        findings.extend(_check_variables(slot, audience))
        findings.extend(_check_sms(slot, max_sms_segments))
    findings.extend(_check_follow_up(journey))
    coverage = tuple(_coverage_row(slot, audience) for slot in journey.slots)
    findings.extend(_check_coverage(journey, coverage, audience))
    findings.sort(key=lambda item: _SEVERITY_ORDER[item.severity])
    return CheckReport(tuple(findings), coverage)


def describe_step(slot: StepSlot) -> str:
    """``primary step (whatsapp via 'clinic-whatsapp')``: how findings name a step."""
    integration = slot.step.integration
    return f"{slot.label} ({slot.step.channel} via {integration.name!r})"


def _empty_audience() -> Finding:
    return Finding(
        "empty_audience",
        Severity.ERROR,
        "the audience has no contacts",
        "Import or add contacts before launching.",
        field="audience",
    )


def _check_integration(
    slot: StepSlot, integrations: Mapping[str, IntegrationState]
) -> Iterator[Finding]:
    wanted = slot.step.integration
    found = integrations.get(wanted.name)
    field = f"{slot.path}.integration"
    if found is None:
        yield _finding(
            slot,
            "integration_missing",
            Severity.ERROR,
            f"no integration is named {wanted.name!r}",
            "Pick an existing integration or create one with that name.",
            field,
        )
    elif found.kind is not wanted.kind:
        yield _finding(
            slot,
            "integration_kind_mismatch",
            Severity.ERROR,
            f"integration {wanted.name!r} is of kind {found.kind}, not {wanted.kind}",
            f"Pick a {wanted.kind} integration or change the step's channel.",
            field,
        )
    elif not found.is_active:
        yield _finding(
            slot,
            "integration_inactive",
            Severity.ERROR,
            f"integration {wanted.name!r} is inactive",
            "Activate it on the integrations page or pick an active one.",
            field,
        )


def _check_content(slot: StepSlot) -> Iterator[Finding]:
    content = slot.step.content
    if isinstance(content, WhatsAppTextContent):
        yield _finding(
            slot,
            "whatsapp_free_form",
            Severity.ERROR,
            "WhatsApp free-form text only reaches people who wrote in the last 24 hours",
            "Use an approved WhatsApp template for campaign messages.",
            f"{slot.path}.content",
        )
    for path in _blank_fields(content):
        yield _finding(
            slot,
            "empty_content",
            Severity.ERROR,
            f"{path.removeprefix('content.')} is empty",
            "Fill it in.",
            f"{slot.path}.{path}",
        )


def _blank_fields(
    content: WhatsAppTemplateContent
    | WhatsAppTextContent
    | SmsContent
    | VoiceContent
    | EmailContent,
) -> Iterator[str]:
    if isinstance(content, WhatsAppTemplateContent):
        candidates = {"content.name": content.name, "content.language": content.language}
        for path, parameter in template_parameters(content):
            if parameter.text is not None:
                candidates[path] = parameter.text
    else:
        candidates = {item.path: item.template.source for item in text_fields(content)}
    yield from (path for path, value in candidates.items() if not value.strip())


def _check_variables(slot: StepSlot, audience: AudienceProfile) -> Iterator[Finding]:
    reported: set[tuple[str, str]] = set()
    for use in variable_uses(slot.step.content):
        if (use.path, use.name) in reported:
            continue
        reported.add((use.path, use.name))
        if use.name not in audience.variables:
            yield _unknown_variable(slot, use, audience)
        else:
            yield from _empty_variable(slot, use, audience)


def _unknown_variable(slot: StepSlot, use: VariableUse, audience: AudienceProfile) -> Finding:
    known = sorted(audience.variables)
    close = difflib.get_close_matches(use.name, known, n=1)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    return _finding(
        slot,
        "unknown_variable",
        Severity.ERROR,
        f"{use.name!r} is not a column of the audience",
        f"{hint}Available: {', '.join(known)}.",
        f"{slot.path}.{use.path}",
    )


def _empty_variable(
    slot: StepSlot, use: VariableUse, audience: AudienceProfile
) -> Iterator[Finding]:
    needs = slot.step.required_field
    count, exact = audience.lacking_value(use.name, needs)
    if count == 0:
        return
    among = f"of the {audience.with_field(needs)} contacts with {needs.value}" if exact else ""
    where = f"{slot.path}.{use.path}"
    if use.default is not None:
        shown = repr(use.default) if use.default else "nothing"
        yield _finding(
            slot,
            "empty_variable",
            Severity.INFO,
            f"{use.name!r} is empty for {count} contacts {among}".rstrip(),
            f"They will see {shown} instead.",
            where,
            count,
        )
        return
    fix = "Add a default, e.g. {{" + use.name + "|there}}, or fill the column."
    if use.path.startswith(("content.body", "content.header", "content.buttons")):
        fix = "Add a default to the parameter: WhatsApp refuses empty parameters."
    yield _finding(
        slot,
        "empty_variable",
        Severity.WARNING,
        f"{use.name!r} is empty for {count} contacts {among}".rstrip(),
        fix,
        where,
        count,
    )


def _check_sms(slot: StepSlot, max_segments: int) -> Iterator[Finding]:
    content = slot.step.content
    if not isinstance(content, SmsContent):
        return
    # Only the fixed text is known before sending: the real message is at least this long.
    measure = measure_sms(text_fields(content)[0].template.literal_text)
    field = f"{slot.path}.content.text"
    if measure.segments > max_segments:
        yield _finding(
            slot,
            "sms_length",
            Severity.WARNING,
            f"the SMS needs at least {measure.segments} parts ({measure.units} "
            f"{measure.encoding} units), more than {max_segments}",
            "Shorten the text: every part is billed as one SMS.",
            field,
        )
    if measure.encoding is SmsEncoding.UCS2:
        characters = " ".join(measure.ucs2_characters[:10])
        yield _finding(
            slot,
            "sms_unicode",
            Severity.INFO,
            f"the SMS is sent as UCS-2 because of {characters} (70 characters per part, not 160)",
            "Replace those characters to fit more text per part.",
            field,
        )


def _check_follow_up(journey: JourneyDefinition) -> Iterator[Finding]:
    follow_up = journey.follow_up
    if follow_up is None or FOLLOW_UP_MIN_DAYS <= follow_up.delay_days <= FOLLOW_UP_MAX_DAYS:
        return
    slot = journey.slots[-1]
    yield _finding(
        slot,
        "follow_up_delay",
        Severity.ERROR,
        f"the follow-up delay is {follow_up.delay_days} days",
        f"Choose a whole number of days from {FOLLOW_UP_MIN_DAYS} to {FOLLOW_UP_MAX_DAYS}.",
        f"{slot.path}.delay_days",
    )


def _coverage_row(slot: StepSlot, audience: AudienceProfile) -> CoverageRow:
    needs = slot.step.required_field
    reachable = audience.with_field(needs)
    return CoverageRow(
        slot.key, slot.label, slot.step.channel, needs, reachable, audience.total - reachable
    )


def _check_coverage(
    journey: JourneyDefinition, coverage: tuple[CoverageRow, ...], audience: AudienceProfile
) -> Iterator[Finding]:
    for slot, row in zip(journey.slots, coverage, strict=True):
        if row.skipped and audience.total:
            yield _finding(
                slot,
                "channel_coverage",
                Severity.WARNING,
                f"{row.skipped} of {audience.total} contacts have no {row.needs.value} "
                f"and will skip it",
                "Add the missing data, or add a fallback on another channel.",
                f"{slot.path}.integration",
                row.skipped,
            )
    yield from _check_reach(journey, audience)


def _check_reach(journey: JourneyDefinition, audience: AudienceProfile) -> Iterator[Finding]:
    needs = {slot.step.required_field for slot in journey.chain}
    unreachable = audience.total - reachable_by_any(audience, needs)
    if not unreachable:
        return
    if unreachable == audience.total:
        problem = "no contact has the data the journey's steps need"
        code, severity = "nobody_reachable", Severity.ERROR
        fix = "Add a step on a channel the contacts can be reached on."
    else:
        problem = f"{unreachable} contacts can be reached by no step and will end undeliverable"
        code, severity = "unreachable_contacts", Severity.WARNING
        fix = "Add their phone or email, or a step on a channel they can be reached on."
    yield Finding(code, severity, problem, fix, field="journey", contacts=unreachable)


def _finding(
    slot: StepSlot,
    code: str,
    severity: Severity,
    problem: str,
    fix: str,
    field: str,
    contacts: int | None = None,
) -> Finding:
    message = f"{describe_step(slot)}: {problem}"
    return Finding(code, severity, message, fix, slot.key, field, contacts)
