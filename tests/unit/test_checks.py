from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pydantic
import pytest

from herald.domain import checks as checks_module
from herald.domain.audience_profile import AudienceProfile
from herald.domain.campaign import JourneyDefinition, Step
from herald.domain.channels import Channel, ContactField, IntegrationKind
from herald.domain.checks import (
    CheckReport,
    CoverageRow,
    Finding,
    IntegrationState,
    Severity,
    check_journey,
)
from herald.domain.content import TemplateParameter, WhatsAppTextContent
from herald.errors import ValidationError
from tests.unit.campaign_factories import (
    EMAIL,
    WHATSAPP,
    active_integrations,
    email_follow_up,
    email_step,
    make_profile,
    reminder_journey,
    sms_step,
    whatsapp_step,
)

EVERYONE = make_profile(with_phone=100, with_email=100, with_phone_and_email=100)


def run(
    journey: JourneyDefinition | None = None, profile: AudienceProfile = EVERYONE, **kwargs: Any
) -> CheckReport:
    integrations = kwargs.pop("integrations", active_integrations())
    return check_journey(journey or reminder_journey(), profile, integrations, **kwargs)


def only(report: CheckReport, code: str) -> Finding:
    found = [item for item in report.findings if item.code == code]
    assert len(found) == 1, report.findings
    return found[0]


def codes(report: CheckReport) -> list[str]:
    return [item.code for item in report.findings]


def test_a_sound_journey_over_a_complete_audience_has_no_findings() -> None:
    report = run()
    assert report.findings == ()
    assert report.can_launch
    report.ensure_launchable()


def test_coverage_table_counts_reachable_and_skipped_per_step() -> None:
    report = run(profile=make_profile())
    assert report.coverage == (
        CoverageRow("primary", "primary step", Channel.WHATSAPP, ContactField.PHONE, 90, 10),
        CoverageRow("fallback-1", "fallback 1", Channel.SMS, ContactField.PHONE, 90, 10),
        CoverageRow("follow-up", "follow-up", Channel.EMAIL, ContactField.EMAIL, 60, 40),
    )
    skipped = [item for item in report.findings if item.code == "channel_coverage"]
    assert [(item.step, item.contacts, item.severity) for item in skipped] == [
        ("primary", 10, Severity.WARNING),
        ("fallback-1", 10, Severity.WARNING),
        ("follow-up", 40, Severity.WARNING),
    ]
    assert skipped[0].message == (
        "primary step (whatsapp via 'clinic-whatsapp'): 10 of 100 contacts have no phone "
        "and will skip it"
    )
    assert only(report, "unreachable_contacts").contacts == 10
    assert report.can_launch


def test_nobody_reachable_blocks_the_launch() -> None:
    profile = make_profile(with_phone=0, with_phone_and_email=0)
    report = run(profile=profile)
    assert only(report, "nobody_reachable").severity is Severity.ERROR
    assert not report.can_launch


def test_an_email_fallback_reaches_contacts_without_phone() -> None:
    journey = reminder_journey(fallbacks=(email_step(),), follow_up=None)
    report = run(journey, profile=make_profile())
    assert "unreachable_contacts" not in codes(report)


def test_unknown_variable_names_step_field_and_a_close_column() -> None:
    report = run(reminder_journey(fallbacks=(sms_step("Hi {{nme}}, see you"),)))
    finding = only(report, "unknown_variable")
    assert finding.severity is Severity.ERROR
    assert finding.step == "fallback-1"
    assert finding.field == "journey.fallbacks[0].content.text"
    assert (
        finding.message
        == "fallback 1 (sms via 'clinic-sms'): 'nme' is not a column of the audience"
    )
    assert finding.fix == "Did you mean 'name'? Available: appointment_date, email, name, phone."
    assert not report.can_launch


def test_unknown_bound_parameter_column() -> None:
    step = whatsapp_step(body=(TemplateParameter.bound("name"), TemplateParameter.bound("date")))
    finding = only(run(reminder_journey(primary=step)), "unknown_variable")
    assert finding.field == "journey.primary.content.body[1]"


def test_python_looking_variables_are_just_unknown_columns() -> None:
    report = run(reminder_journey(fallbacks=(sms_step("{{__class__}}"),)))
    assert only(report, "unknown_variable").message.endswith(
        "'__class__' is not a column of the audience"
    )


def test_empty_variables_warn_without_default_and_inform_with_one() -> None:
    profile = make_profile(
        with_phone=100,
        with_email=100,
        with_phone_and_email=100,
        non_empty={"name": 80, "appointment_date": 70},
    )
    report = run(reminder_journey(follow_up=None), profile=profile)
    found = {(item.field, item.severity, item.contacts) for item in report.findings}
    assert found == {
        ("journey.primary.content.body[0]", Severity.INFO, 20),
        ("journey.primary.content.body[1]", Severity.WARNING, 30),
        ("journey.fallbacks[0].content.text", Severity.INFO, 20),
        ("journey.fallbacks[0].content.text", Severity.WARNING, 30),
    }
    parameter = next(item for item in report.warnings if "body[1]" in (item.field or ""))
    assert "WhatsApp refuses empty parameters" in parameter.fix
    sms_info = next(item for item in report.infos if "fallbacks" in (item.field or ""))
    assert sms_info.fix == "They will see 'there' instead."
    assert report.can_launch


def test_empty_counts_are_exact_among_reachable_contacts_when_given() -> None:
    profile = make_profile(
        non_empty={"name": 70, "appointment_date": 100},
        non_empty_with_phone={"name": 85, "appointment_date": 90},
    )
    journey = JourneyDefinition(primary=sms_step("Hi {{name}}"))
    finding = only(run(journey, profile=profile), "empty_variable")
    assert finding.contacts == 5
    assert "'name' is empty for 5 contacts of the 90 contacts with phone" in finding.message


def test_email_variable_in_a_phone_step_counts_contacts_without_email() -> None:
    journey = JourneyDefinition(primary=sms_step("Write to {{email}}"))
    finding = only(run(journey, profile=make_profile()), "empty_variable")
    assert finding.contacts == 40
    phone_in_phone_step = JourneyDefinition(primary=sms_step("Your number {{phone}}"))
    assert "empty_variable" not in codes(run(phone_in_phone_step, profile=make_profile()))


def test_whatsapp_free_form_text_is_refused() -> None:
    free = Step(integration=WHATSAPP, content=WhatsAppTextContent(text="Hi {{name}}"))
    finding = only(run(reminder_journey(primary=free)), "whatsapp_free_form")
    assert finding.severity is Severity.ERROR
    assert finding.field == "journey.primary.content"
    assert "approved WhatsApp template" in finding.fix


@pytest.mark.parametrize(
    ("integrations", "code", "fragment"),
    [
        ([], "integration_missing", "no integration is named 'clinic-whatsapp'"),
        (
            [IntegrationState("clinic-whatsapp", IntegrationKind.WHATSAPP, is_active=False)],
            "integration_inactive",
            "integration 'clinic-whatsapp' is inactive",
        ),
        (
            [IntegrationState("clinic-whatsapp", IntegrationKind.INFOBIP_SMS, is_active=True)],
            "integration_kind_mismatch",
            "is of kind infobip_sms, not whatsapp",
        ),
    ],
)
def test_integration_problems_block_the_launch(
    integrations: list[IntegrationState], code: str, fragment: str
) -> None:
    report = run(JourneyDefinition(primary=whatsapp_step()), integrations=integrations)
    finding = only(report, code)
    assert fragment in finding.message
    assert finding.field == "journey.primary.integration"
    assert not report.can_launch


@pytest.mark.parametrize(
    ("days", "refused"), [(-1, True), (0, True), (1, False), (7, False), (8, True)]
)
def test_follow_up_delay_range(days: int, refused: bool) -> None:
    report = run(reminder_journey(follow_up=email_follow_up(days)))
    assert ("follow_up_delay" in codes(report)) is refused
    if refused:
        finding = only(report, "follow_up_delay")
        assert finding.field == "journey.follow_up.delay_days"
        assert "from 1 to 7" in finding.fix


def test_long_sms_warns_and_names_the_part_count() -> None:
    report = run(JourneyDefinition(primary=sms_step("x" * 460 + "{{name}}")))
    finding = only(report, "sms_length")
    assert finding.severity is Severity.WARNING
    assert "at least 4 parts (460 gsm7 units), more than 3" in finding.message
    assert "sms_length" not in codes(
        run(JourneyDefinition(primary=sms_step("x" * 460)), max_sms_segments=4)
    )


def test_unicode_sms_is_flagged_with_the_characters() -> None:
    finding = only(
        run(JourneyDefinition(primary=sms_step("Hi {{name}} — see you ✓"))), "sms_unicode"
    )
    assert finding.severity is Severity.INFO
    assert "because of — ✓" in finding.message


@pytest.mark.parametrize(
    ("journey", "fields"),
    [
        (JourneyDefinition(primary=sms_step("  ")), ["journey.primary.content.text"]),
        (
            JourneyDefinition(primary=whatsapp_step(name="", language="")),
            ["journey.primary.content.name", "journey.primary.content.language"],
        ),
        (
            JourneyDefinition(primary=whatsapp_step(body=(TemplateParameter.fixed(" "),))),
            ["journey.primary.content.body[0]"],
        ),
        (
            JourneyDefinition(primary=email_step(subject="", html="")),
            ["journey.primary.content.subject", "journey.primary.content.html"],
        ),
    ],
)
def test_empty_content_blocks_the_launch(journey: JourneyDefinition, fields: list[str]) -> None:
    report = run(journey)
    assert [item.field for item in report.findings if item.code == "empty_content"] == fields
    assert not report.can_launch


def test_an_empty_audience_blocks_the_launch() -> None:
    empty = make_profile(total=0, with_phone=0, with_email=0, with_phone_and_email=0, non_empty={})
    report = run(profile=empty)
    assert codes(report) == ["empty_audience"]


def test_findings_come_errors_first() -> None:
    journey = reminder_journey(primary=sms_step("{{nope}}"), follow_up=email_follow_up(9))
    report = run(journey, profile=make_profile())
    severities = [item.severity for item in report.findings]
    assert severities == sorted(
        severities, key=[Severity.ERROR, Severity.WARNING, Severity.INFO].index
    )
    assert {item.code for item in report.errors} == {"unknown_variable", "follow_up_delay"}


def test_ensure_launchable_lists_every_error() -> None:
    report = run(reminder_journey(primary=sms_step("{{nope}}"), follow_up=email_follow_up(9)))
    with pytest.raises(ValidationError) as caught:
        report.ensure_launchable()
    assert caught.value.code == "checks_failed"
    assert caught.value.field == "journey.primary.content.text"
    assert "'nope' is not a column" in caught.value.message
    assert "follow-up delay is 9 days" in caught.value.message


def test_warnings_alone_do_not_block() -> None:
    report = run(profile=make_profile())
    assert report.warnings and not report.errors
    report.ensure_launchable()


@pytest.mark.parametrize(
    "counts",
    [
        {"with_phone": 101},
        {"with_phone_and_email": 61},
        {"with_phone": 90, "with_email": 60, "with_phone_and_email": 40},
        {"total": -1},
    ],
)
def test_inconsistent_profiles_are_refused(counts: dict[str, int]) -> None:
    with pytest.raises(pydantic.ValidationError):
        make_profile(**counts)


def test_profile_variables_include_phone_and_email() -> None:
    assert make_profile().variables == {"name", "appointment_date", "phone", "email"}
    assert EMAIL.channel is Channel.EMAIL


def test_every_check_code_is_documented() -> None:
    documented = (Path(__file__).parents[2] / "docs" / "campaigns.md").read_text(encoding="utf-8")
    codes_in_module = re.findall(r"^\| ``(\w+)`` \|", checks_module.__doc__ or "", re.MULTILINE)
    assert len(codes_in_module) == 14
    for code in codes_in_module:
        assert f"| `{code}` |" in documented
