"""Builder step 2, the message journey: primary step, fallbacks, follow-up, live preview.

The page is one form (see :mod:`.builder_journey_form`). Its buttons save
and then either stay (switching section, adding, removing or moving a
fallback, adding a template parameter) or go to another step; so the page
works as plain POSTs, and ``campaigns.js`` only makes switching sections
and editors instant. The preview and the step's checks are rendered with
the page and again, while typing, by ``POST .../journey/preview`` from the
unsaved form.

For a WhatsApp integration, the step offers the account's approved templates
(from the cached list, fetched again when older than its TTL): picking one
fills the name and language and sets as many parameter rows as the body has
placeholders; "Refresh templates" fetches the list at once. The preview
then shows the template's body with the parameters filled in.

The form's field names depend on the journey (``fallback-2.sms_text``), so
the POST routes read the form themselves (``async``) and do the database
work in a thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from herald.domain.channels import IntegrationKind
from herald.domain.checks import CheckReport, Finding, Severity
from herald.domain.ids import IntegrationId
from herald.domain.sms import SmsEncoding, measure_sms
from herald.domain.whatsapp_templates import render_body
from herald.errors import HeraldError, NotFoundError, ValidationError
from herald.services.campaign_builder import check_unsaved, contact_choices, preview_unsaved
from herald.services.container import Herald
from herald.services.integrations import IntegrationView
from herald.services.whatsapp_templates import TemplateCacheView, cached_catalogues
from herald.store.audiences import ContactRecord
from herald.web.auth import CurrentUser
from herald.web.deps import HeraldDep
from herald.web.pages.builder_common import (
    destination,
    load_campaign,
    not_editable_redirect,
    redirect,
    sentence,
    step_links,
)
from herald.web.pages.builder_journey_form import (
    DELAY_CHOICES,
    FALLBACK_PREFIX,
    FOLLOW_UP,
    PRIMARY,
    FormData,
    JourneyForm,
    apply_action,
    form_from_journey,
    parse_form,
)
from herald.web.templating import render

router = APIRouter(include_in_schema=False)

CHANNEL_LABELS = {
    IntegrationKind.WHATSAPP: "WhatsApp",
    IntegrationKind.INFOBIP_SMS: "SMS",
    IntegrationKind.TWILIO_VOICE: "Voice call",
    IntegrationKind.EMAIL_SMTP: "Email",
}
MAX_FORM_FIELDS = 2000


@router.get("/campaigns/{campaign_id:int}/journey")
def journey_page(
    request: Request,
    herald: HeraldDep,
    who: CurrentUser,
    campaign_id: int,
    section: Annotated[str, Query(max_length=40)] = PRIMARY,
    contact: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    campaign = load_campaign(herald, campaign_id)
    if (moved := not_editable_redirect(campaign)) is not None:
        return moved
    journey = form_from_journey(campaign.journey)
    return _render(request, herald, campaign_id, journey, section=section, contact=contact)


@router.post("/campaigns/{campaign_id:int}/journey")
async def save_journey(request: Request, campaign_id: int) -> Response:
    form = await _read_form(request)
    return await run_in_threadpool(_save, request, campaign_id, form)


@router.post("/campaigns/{campaign_id:int}/journey/preview")
async def live_preview(request: Request, campaign_id: int) -> Response:
    """The preview panel for the unsaved form: the chosen step for the chosen contact."""
    form = await _read_form(request)
    return await run_in_threadpool(_preview_panel, request, campaign_id, form)


@router.post("/campaigns/{campaign_id:int}/journey/measure")
async def measure(request: Request, campaign_id: int) -> Response:
    """Characters, encoding and SMS parts of the SMS text being typed (before variables)."""
    form = await _read_form(request)
    text = next((values[0] for key, values in form.items() if key.endswith(".sms_text")), "")
    return PlainTextResponse(describe_sms(text))


def describe_sms(text: str) -> str:
    if not text:
        return "No text yet"
    size = measure_sms(text)
    encoding = "GSM-7" if size.encoding is SmsEncoding.GSM7 else "Unicode (UCS-2)"
    parts = "1 SMS" if size.segments == 1 else f"{size.segments:,} SMS parts"
    line = f"{size.characters:,} characters · {encoding} · {parts}"
    if size.ucs2_characters:
        line += " · Unicode because of: " + " ".join(size.ucs2_characters)
    return line


async def _read_form(request: Request) -> dict[str, list[str]]:
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    return {
        key: [value for value in form.getlist(key) if isinstance(value, str)]
        for key in form.keys()  # noqa: SIM118 (a multi-dict: keys() lists each name once)
    }


def _herald(request: Request) -> Herald:
    herald = request.app.state.herald
    assert isinstance(herald, Herald)
    return herald


def _first(form: FormData, name: str) -> str:
    values = form.get(name, ())
    return values[0] if values else ""


def _save(request: Request, campaign_id: int, form: FormData) -> Response:
    herald = _herald(request)
    journey = parse_form(form)
    go = _first(form, "go")
    section = _first(form, "section") or PRIMARY
    stays = go.startswith(("section:", "refresh_templates:"))
    if stays:
        section = go.partition(":")[2]
        if go.startswith("refresh_templates:"):
            _refresh_templates(herald, journey, section)
    else:
        journey, changed_section = apply_action(journey, go)
        if changed_section is not None:
            section, stays = changed_section, True
    try:
        with herald.sessions() as db:
            kinds = {item.name: item.kind for item in herald.integrations.list(db)}
            herald.campaigns.update_draft(db, campaign_id, journey=journey.to_journey(kinds))
    except HeraldError as exc:
        if not isinstance(exc, ValidationError):
            raise
        return _render(request, herald, campaign_id, journey, section=section, error=exc)
    if stays or go in ("", "journey"):
        return redirect(f"/campaigns/{campaign_id}/journey?section={section}")
    return redirect(destination(campaign_id, "journey", go))


def _refresh_templates(herald: Herald, journey: JourneyForm, key: str) -> None:
    """Fetch again the templates of the step's WhatsApp integration (failures are stored)."""
    step = dict(journey.keyed_steps()).get(key)
    if step is None:
        return
    with herald.sessions() as db:
        found = herald.integrations.find_by_name(db, step.integration.strip())
    if found is not None and found.kind is IntegrationKind.WHATSAPP:
        herald.whatsapp_templates.refresh(found.id)


def _preview_panel(request: Request, campaign_id: int, form: FormData) -> Response:
    herald = _herald(request)
    journey = parse_form(form)
    section = _first(form, "section") or PRIMARY
    contact = _first(form, "contact")
    row = int(contact) if contact.isdigit() else None
    with herald.sessions() as db:
        context = _feedback(herald, db, campaign_id, journey, section, row)
    return render(request, "campaigns/_preview.html", context | {"campaign_id": campaign_id})


def _feedback(
    herald: Herald,
    db: Session,
    campaign_id: int,
    journey: JourneyForm,
    section: str,
    contact: int | None,
) -> dict[str, Any]:
    """Preview and checks of ``section`` for the journey as entered."""
    kinds = {item.name: item.kind for item in herald.integrations.list(db)}
    data = journey.to_journey(kinds)
    findings = _plain_findings(journey, kinds, check_unsaved(db, campaign_id, data))
    preview, preview_error = None, None
    if section in _unrouted(journey, kinds):
        preview_error = "Choose an integration to see the message."
    else:
        try:
            preview = preview_unsaved(db, campaign_id, data, step=section, contact_row=contact)
        except (ValidationError, NotFoundError) as exc:
            preview_error = sentence(_first_problem(exc.message))
    view = None if preview is None else preview.as_dict()
    return {
        "section": section,
        "section_label": section_label(section),
        "preview": view,
        "preview_error": preview_error,
        "template_text": _template_text(db, view),
        "step_findings": [item for item in findings if step_of(item) == section],
        "journey_findings": [item for item in findings if step_of(item) is None],
        "can_launch": not any(item.severity is Severity.ERROR for item in findings),
        "contact": contact,
    }


def _template_text(db: Session, preview: Mapping[str, Any] | None) -> str | None:
    """The template's body with the contact's parameters in, when the cached list knows it."""
    if preview is None or preview["kind"] != "whatsapp_template":
        return None
    catalogue = cached_catalogues(db).get(preview["integration"])
    message = preview["message"]
    template = None if catalogue is None else catalogue.find(message["name"], message["language"])
    if template is None:
        return None
    return render_body(template.body_text, [str(value) for value in message["body"]])


def _template_pickers(
    herald: Herald, integrations: list[IntegrationView]
) -> dict[str, TemplateCacheView]:
    """The template list of each WhatsApp integration offered, fetched again when stale."""
    return {
        item.name: herald.whatsapp_templates.ensure_fresh(IntegrationId(item.id))
        for item in integrations
        if item.kind is IntegrationKind.WHATSAPP
    }


def template_choice(cache: TemplateCacheView | None, name: str, language: str) -> str:
    """The picker's value for a step's template, or "" when it is not an approved one."""
    for item in cache.approved if cache is not None else ():
        if (item.name, item.language) == (name, language):
            return f"{item.name}|{item.language}|{item.body_parameters}"
    return ""


def _unrouted(journey: JourneyForm, kinds: Mapping[str, IntegrationKind]) -> list[str]:
    """Keys of the steps whose integration is not chosen (or no longer exists)."""
    return [
        key
        for key in journey.section_keys()
        if dict(journey.keyed_steps())[key].integration not in kinds
    ]


def _plain_findings(
    journey: JourneyForm, kinds: Mapping[str, IntegrationKind], report: CheckReport
) -> list[Finding]:
    """The checks, with a step that has no integration yet reported once, in plain words.

    Without an integration the step has no channel, so the model's complaints
    (an empty name, no kind, no content) all say the same thing.
    """
    unrouted = _unrouted(journey, kinds)
    findings = [
        item
        for item in report.findings
        if not (item.code == "journey_invalid" and step_of(item) in unrouted)
    ]
    missing = [
        Finding(
            "integration_missing",
            Severity.ERROR,
            f"no integration is chosen for the {section_label(key).lower()}",
            "Choose one under “Send through”.",
            step=key,
        )
        for key in unrouted
    ]
    return missing + findings


def _first_problem(message: str) -> str:
    """A journey that does not parse lists every problem; the preview names the first."""
    return message.split("; ")[0]


def step_of(finding: Finding) -> str | None:
    """The step a finding is about: its key, or the key its field path points into."""
    if finding.step:
        return finding.step
    path = finding.field or ""
    if path.startswith("journey.primary"):
        return PRIMARY
    if path.startswith("journey.follow_up"):
        return FOLLOW_UP
    if path.startswith("journey.fallbacks["):
        number = path.removeprefix("journey.fallbacks[").split("]", 1)[0]
        if number.isdigit():
            return f"{FALLBACK_PREFIX}{int(number) + 1}"
    return None


def section_label(key: str) -> str:
    if key == PRIMARY:
        return "Primary message"
    if key == FOLLOW_UP:
        return "Follow-up"
    return "Fallback " + key.removeprefix(FALLBACK_PREFIX)


def _contact_label(contact: ContactRecord) -> str:
    first_value = next((value for value in contact.fields.values() if value.strip()), "")
    parts = [f"Row {contact.row_number}", first_value, contact.phone or contact.email or ""]
    return " · ".join(part for part in parts if part)


def _render(
    request: Request,
    herald: Herald,
    campaign_id: int,
    journey: JourneyForm,
    *,
    section: str = PRIMARY,
    contact: int | None = None,
    error: HeraldError | None = None,
) -> Response:
    if section not in journey.section_keys():
        section = PRIMARY
    with herald.sessions() as db:
        integrations = herald.integrations.list(db)
    used = {step.integration for _key, step in journey.keyed_steps()}
    offered = [item for item in integrations if item.is_active or item.name in used]
    # Before the checks: they read the template lists this may fetch.
    pickers = _template_pickers(herald, offered)
    with herald.sessions() as db:
        campaign = herald.campaigns.get(db, campaign_id)
        variables = herald.campaigns.variables(db, campaign_id)
        contacts = contact_choices(db, campaign_id)
        feedback = _feedback(herald, db, campaign_id, journey, section, contact)
    context = {
        "campaign": campaign,
        "steps": step_links(campaign_id, "journey"),
        "journey": journey,
        "keyed_steps": journey.keyed_steps(),
        "section_keys": journey.section_keys(),
        "section_labels": {key: section_label(key) for key, _step in journey.keyed_steps()},
        "integrations": offered,
        "kinds": {item.name: item.kind.value for item in integrations},
        "channel_labels": {kind.value: label for kind, label in CHANNEL_LABELS.items()},
        "variables": variables,
        "columns": [name for name in variables if name not in ("phone", "email")],
        "contacts": [(item.row_number, _contact_label(item)) for item in contacts],
        "delay_choices": DELAY_CHOICES,
        "describe_sms": describe_sms,
        "error": None if error is None else sentence(error.message),
        "notice": None,
        "campaign_id": campaign_id,
        "wa_templates": pickers,
        "template_choice": template_choice,
    } | feedback
    return render(request, "campaigns/journey.html", context, status_code=422 if error else 200)
