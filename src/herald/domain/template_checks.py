"""Pre-launch checks of WhatsApp template steps against the account's template list.

Meta only reports a wrong template when the first message goes out (132001,
132000, 132015, 132016), by which time a whole campaign is queued. These
checks take the integrations' template catalogues as plain data (fetched
and cached by the services) and add findings to a :class:`CheckReport`:

| code | severity | when |
| --- | --- | --- |
| ``whatsapp_template_unknown`` | error | no template of that name in that language |
| ``whatsapp_template_not_approved`` | error | pending, rejected, paused or disabled |
| ``whatsapp_template_parameters`` | error | the step binds another number of body parameters |
| ``whatsapp_template_header`` | error | a media header; a header parameter missing or extra |
| ``whatsapp_template_unverified`` | warning | the integration's templates could not be fetched |
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from herald.domain.campaign import JourneyDefinition, StepSlot
from herald.domain.channels import IntegrationKind
from herald.domain.checks import CheckReport, Finding, Severity, describe_step
from herald.domain.content import WhatsAppTemplateContent
from herald.domain.whatsapp_templates import (
    TemplateCatalogue,
    TemplateDefinition,
    describe_choices,
)

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def with_template_checks(
    report: CheckReport,
    journey: JourneyDefinition,
    catalogues: Mapping[str, TemplateCatalogue],
) -> CheckReport:
    """``report`` plus the template findings, still ordered by severity then journey order."""
    added = [finding for slot in journey.slots for finding in check_template_step(slot, catalogues)]
    if not added:
        return report
    findings = sorted((*report.findings, *added), key=lambda item: _SEVERITY_ORDER[item.severity])
    return CheckReport(tuple(findings), report.coverage)


def check_template_step(
    slot: StepSlot, catalogues: Mapping[str, TemplateCatalogue]
) -> Iterator[Finding]:
    """Findings for one step; nothing for other channels or a template not named yet."""
    content = slot.step.content
    integration = slot.step.integration
    if integration.kind is not IntegrationKind.WHATSAPP:
        return
    if not isinstance(content, WhatsAppTemplateContent) or not content.name.strip():
        return
    catalogue = catalogues.get(integration.name)
    if catalogue is None or not catalogue.is_known:
        why = f" ({catalogue.problem})" if catalogue is not None and catalogue.problem else ""
        yield _finding(
            slot,
            "whatsapp_template_unverified",
            Severity.WARNING,
            f"template {content.name!r} could not be verified: the account's templates "
            f"are not available{why}",
            "Refresh the templates on the integration's page; Meta refuses unknown "
            "or unapproved templates at send time (132001).",
            "name",
        )
        return
    template = catalogue.find(content.name, content.language)
    approved = catalogue.approved()
    if template is None and not catalogue.is_complete:
        yield _finding(
            slot,
            "whatsapp_template_unverified",
            Severity.WARNING,
            f"template {content.name!r} ({content.language}) is not among the "
            f"{len(catalogue.templates or ())} templates read from the account, which has more",
            "Check its name and language in WhatsApp Manager.",
            "name",
        )
        return
    if template is None:
        choices = describe_choices(approved)
        yield _finding(
            slot,
            "whatsapp_template_unknown",
            Severity.ERROR,
            f"the account has no template {content.name!r} in language {content.language!r}",
            f"Approved templates: {choices}."
            if choices
            else "The account has no approved template.",
            "name",
        )
        return
    if not template.is_approved:
        yield _finding(
            slot,
            "whatsapp_template_not_approved",
            Severity.ERROR,
            f"template {content.name!r} ({content.language}) is {template.status}, not APPROVED",
            _not_approved_fix(template.status, describe_choices(approved)),
            "name",
        )
    given = len(content.body)
    if given != template.body_parameters:
        yield _finding(
            slot,
            "whatsapp_template_parameters",
            Severity.ERROR,
            f"the step gives {given} body parameter{'s' if given != 1 else ''}; template "
            f"{content.name!r} ({content.language}) has {template.body_parameters} "
            f"placeholder{'s' if template.body_parameters != 1 else ''} in its body",
            f"Bind exactly {template.body_parameters}: Meta refuses the send otherwise (132000).",
            "body",
        )
    yield from _check_header(slot, content, template)


def _check_header(
    slot: StepSlot, content: WhatsAppTemplateContent, template: TemplateDefinition
) -> Iterator[Finding]:
    described = f"template {content.name!r} ({content.language})"
    if template.has_media_header:
        problem = (
            f"{described} has a media header ({template.header_format}), which a "
            "campaign step cannot fill"
        )
        fix = "Pick a template without a media header: Meta refuses the send (131008)."
    elif template.header_parameters and content.header_text is None:
        problem = f"{described} has a parameter in its header and the step gives none"
        fix = "Set header_text in the campaign file, or pick another template (132000)."
    elif not template.header_parameters and content.header_text is not None:
        problem = f"the step gives a header parameter; {described} has none in its header"
        fix = "Remove header_text from the campaign file (132000)."
    else:
        return
    yield _finding(slot, "whatsapp_template_header", Severity.ERROR, problem, fix, "header_text")


def _not_approved_fix(status: str, choices: str) -> str:
    waiting = {
        "PENDING": "Wait for Meta's review, or pick an approved template.",
        "PAUSED": "Meta paused it for low quality; pick another until it is unpaused.",
    }
    fix = waiting.get(status, "Meta will not send it; pick an approved template.")
    return f"{fix} Approved: {choices}." if choices else fix


def _finding(
    slot: StepSlot, code: str, severity: Severity, problem: str, fix: str, field: str
) -> Finding:
    return Finding(
        code,
        severity,
        f"{describe_step(slot)}: {problem}",
        fix,
        slot.key,
        f"{slot.path}.content.{field}",
    )
