"""WhatsApp template steps checked against the account's template list (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from herald.domain.checks import CheckReport, Finding, Severity, check_journey
from herald.domain.content import TemplateParameter
from herald.domain.template_checks import with_template_checks
from herald.domain.whatsapp_templates import (
    TemplateCatalogue,
    TemplateDefinition,
    count_body_parameters,
    describe_choices,
    render_body,
)
from tests.unit.campaign_factories import (
    WHATSAPP,
    active_integrations,
    make_profile,
    reminder_journey,
    whatsapp_step,
)

REMINDER_TEXT = "Hi {{1}}, your appointment is on {{2}}."


def template(
    name: str, language: str, status: str = "APPROVED", text: str = ""
) -> TemplateDefinition:
    return TemplateDefinition(
        name, language, status, "UTILITY", text, count_body_parameters(text), None
    )


CATALOGUE = TemplateCatalogue(
    WHATSAPP.name,
    (
        template("appointment_reminder", "en_US", text=REMINDER_TEXT),
        template("appointment_reminder", "es", text=REMINDER_TEXT),
        template("hello_world", "en_US"),
        template("spring_sale", "en_US", "PAUSED", "Sale for {{1}}"),
        template("feedback_survey", "en_US", "PENDING", "How was it, {{1}}?"),
    ),
    datetime(2025, 1, 6, tzinfo=UTC),
)


def check(catalogue: TemplateCatalogue | None = CATALOGUE, **step: object) -> CheckReport:
    journey = reminder_journey(primary=whatsapp_step(**step))
    base = check_journey(journey, make_profile(), active_integrations())
    catalogues = {} if catalogue is None else {WHATSAPP.name: catalogue}
    return with_template_checks(base, journey, catalogues)


def template_findings(report: CheckReport) -> list[Finding]:
    return [item for item in report.findings if item.code.startswith("whatsapp_template")]


def test_a_known_approved_template_with_the_right_parameters_adds_nothing() -> None:
    report = check()
    assert template_findings(report) == []


def test_an_unknown_name_blocks_and_lists_the_approved_alternatives() -> None:
    [finding] = template_findings(check(name="appointment_remindr"))
    assert (finding.code, finding.severity) == ("whatsapp_template_unknown", Severity.ERROR)
    assert finding.step == "primary"
    assert finding.field == "journey.primary.content.name"
    assert "primary step (whatsapp via 'clinic-whatsapp')" in finding.message
    assert "'appointment_remindr'" in finding.message
    assert "appointment_reminder (en_US, es), hello_world (en_US)" in finding.fix
    assert "spring_sale" not in finding.fix and "feedback_survey" not in finding.fix


def test_an_unknown_language_blocks() -> None:
    [finding] = template_findings(check(language="fr"))
    assert finding.code == "whatsapp_template_unknown"
    assert "in language 'fr'" in finding.message


@pytest.mark.parametrize(
    ("name", "status"), [("spring_sale", "PAUSED"), ("feedback_survey", "PENDING")]
)
def test_a_template_that_is_not_approved_blocks_with_its_status(name: str, status: str) -> None:
    body = (TemplateParameter.bound("name"),)
    [finding] = template_findings(check(name=name, body=body))
    assert (finding.code, finding.severity) == ("whatsapp_template_not_approved", Severity.ERROR)
    assert f"is {status}, not APPROVED" in finding.message
    assert "Approved: appointment_reminder" in finding.fix


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_wrong_parameter_count_blocks_naming_both_counts(count: int) -> None:
    body = tuple(TemplateParameter.fixed("x") for _ in range(count))
    [finding] = template_findings(check(body=body))
    assert (finding.code, finding.severity) == ("whatsapp_template_parameters", Severity.ERROR)
    assert f"gives {count} body parameter" in finding.message
    assert "has 2 placeholders" in finding.message
    assert finding.field == "journey.primary.content.body"
    assert not check(body=body).can_launch


@pytest.mark.parametrize(
    "catalogue",
    [None, TemplateCatalogue(WHATSAPP.name, None, problem="WhatsApp error 190: bad token")],
)
def test_without_a_catalogue_a_warning_says_the_template_is_unverified(
    catalogue: TemplateCatalogue | None,
) -> None:
    report = check(catalogue)
    [finding] = template_findings(report)
    assert (finding.code, finding.severity) == ("whatsapp_template_unverified", Severity.WARNING)
    assert "could not be verified" in finding.message
    if catalogue is not None:
        assert "bad token" in finding.message
    assert report.can_launch


def test_findings_stay_ordered_by_severity() -> None:
    report = check(name="nope")
    severities = [item.severity for item in report.findings]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    assert severities == sorted(severities, key=order.__getitem__)


def test_an_unnamed_template_is_left_to_the_empty_content_check() -> None:
    report = check(name="")
    assert template_findings(report) == []
    assert any(item.code == "empty_content" for item in report.findings)


@pytest.mark.parametrize(
    ("text", "count"),
    [("", 0), ("Hi", 0), ("{{1}} {{2}}", 2), ("{{1}} and {{1}}", 1), ("{{ 1 }}{{first_name}}", 2)],
)
def test_body_placeholders_are_counted_once_each(text: str, count: int) -> None:
    assert count_body_parameters(text) == count


def test_render_body_fills_positional_and_named_placeholders() -> None:
    assert render_body(REMINDER_TEXT, ["Ana", "Tuesday"]) == (
        "Hi Ana, your appointment is on Tuesday."
    )
    assert render_body("{{2}}-{{1}}-{{1}}", ["a", "b"]) == "b-a-a"
    assert render_body("Hi {{first_name}}, {{code}}", ["Ana", "X1"]) == "Hi Ana, X1"
    assert render_body("Hi {{1}} {{2}}", ["Ana"]) == "Hi Ana {{2}}"


def test_describe_choices_is_bounded() -> None:
    many = [template(f"t{n:02d}", "en") for n in range(12)]
    line = describe_choices(many, limit=3)
    assert line == "t00 (en), t01 (en), t02 (en), and 9 more"


def header_catalogue(header_format: str | None, header_parameters: int) -> TemplateCatalogue:
    definition = TemplateDefinition(
        "appointment_reminder",
        "en_US",
        "APPROVED",
        "UTILITY",
        REMINDER_TEXT,
        2,
        header_format,
        header_parameters,
    )
    return TemplateCatalogue(WHATSAPP.name, (definition,))


@pytest.mark.parametrize(
    ("header_format", "header_parameters", "header_text", "expected"),
    [
        ("IMAGE", 0, None, "has a media header (IMAGE), which a campaign step cannot fill"),
        ("TEXT", 1, None, "has a parameter in its header and the step gives none"),
        ("TEXT", 0, TemplateParameter.fixed("x"), "the step gives a header parameter"),
        (None, 0, TemplateParameter.fixed("x"), "the step gives a header parameter"),
    ],
)
def test_header_problems_block(
    header_format: str | None,
    header_parameters: int,
    header_text: TemplateParameter | None,
    expected: str,
) -> None:
    report = check(header_catalogue(header_format, header_parameters), header_text=header_text)
    [finding] = template_findings(report)
    assert (finding.code, finding.severity) == ("whatsapp_template_header", Severity.ERROR)
    assert expected in finding.message
    assert finding.field == "journey.primary.content.header_text"


@pytest.mark.parametrize(
    ("header_format", "header_parameters", "header_text"),
    [("TEXT", 1, TemplateParameter.bound("name")), ("TEXT", 0, None), (None, 0, None)],
)
def test_a_header_as_the_template_wants_it_adds_nothing(
    header_format: str | None, header_parameters: int, header_text: TemplateParameter | None
) -> None:
    report = check(header_catalogue(header_format, header_parameters), header_text=header_text)
    assert template_findings(report) == []


def test_a_template_missing_from_a_cut_short_list_is_only_unverified() -> None:
    partial = TemplateCatalogue(WHATSAPP.name, CATALOGUE.templates, is_complete=False)
    [finding] = template_findings(check(partial, name="beyond_the_pages"))
    assert (finding.code, finding.severity) == ("whatsapp_template_unverified", Severity.WARNING)
    assert "not among the 5 templates read" in finding.message
    assert template_findings(check(partial)) == []  # a template that was read is checked
    wrong = template_findings(check(partial, body=()))
    assert [item.code for item in wrong] == ["whatsapp_template_parameters"]
