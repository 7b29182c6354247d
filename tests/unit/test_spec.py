from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herald.domain.campaign import FollowUp, IntegrationRef, JourneyDefinition, Step
from herald.domain.channels import IntegrationKind
from herald.domain.content import (
    ButtonType,
    EmailContent,
    KeypressCapture,
    SmsContent,
    TemplateButton,
    TemplateParameter,
    VoiceContent,
    WhatsAppTemplateContent,
    WhatsAppTextContent,
)
from herald.domain.schedule import local_to_utc
from herald.domain.spec import (
    AgentRef,
    CampaignSpec,
    ScheduleSpec,
    diff_specs,
    dump_spec,
    parse_spec,
)
from herald.errors import ValidationError
from tests.unit.campaign_factories import reminder_journey, sms_step, voice_step

DOCS = Path(__file__).parents[2] / "docs" / "campaign-spec.md"


def documented_example() -> str:
    match = re.search(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None
    return match.group(1)


def base_spec(**overrides: object) -> CampaignSpec:
    fields: dict[str, object] = {"name": "Reminders", "journey": reminder_journey()}
    fields.update(overrides)
    return CampaignSpec.model_validate(fields)


def test_the_documented_example_parses() -> None:
    spec = parse_spec(documented_example())
    assert spec.name == "Appointment reminders — September"
    assert spec.tags == ("reminders", "clinic-north")
    assert spec.agent == AgentRef(name="appointment-assistant", version=3)
    assert spec.audience == "seed-example.csv"
    assert spec.default_region == "US"
    primary = spec.journey.primary.content
    assert isinstance(primary, WhatsAppTemplateContent)
    assert [parameter.column for parameter in primary.body] == ["name", "appointment_date"]
    assert spec.journey.fallbacks[0].delivery_window_minutes == 240
    assert spec.journey.follow_up is not None
    assert spec.journey.follow_up.delay_days == 2
    assert spec.schedule == ScheduleSpec(at=datetime(2024, 9, 9, 9, 0), timezone="America/New_York")
    assert spec.schedule.start_utc() == datetime.fromisoformat("2024-09-09T13:00:00+00:00")


def test_the_documented_example_round_trips_and_exports_in_the_same_key_order() -> None:
    spec = parse_spec(documented_example())
    dumped = dump_spec(spec)
    assert parse_spec(dumped) == spec
    assert dump_spec(parse_spec(dumped)) == dumped
    keys = [line.split(":")[0] for line in dumped.splitlines() if re.match(r"^\w", line)]
    assert keys == ["name", "tags", "agent", "audience", "default_region", "journey", "schedule"]
    assert "\n    delay_days: 2\n    integration:" in dumped
    assert "text: |\n" in dumped
    assert "at: 2024-09-09 09:00\n" in dumped


def test_an_unchanged_spec_has_no_diff() -> None:
    spec = parse_spec(documented_example())
    assert diff_specs(spec, parse_spec(dump_spec(spec))) == ()


def test_diff_lists_each_change_readably() -> None:
    before = base_spec(tags=["a"])
    journey = reminder_journey(
        fallbacks=(sms_step("New text"), voice_step()),
        follow_up=None,
    )
    after = base_spec(tags=["a", "b"], journey=journey, audience="new.csv")
    lines = [str(change) for change in diff_specs(before, after)]
    assert lines == [
        '~ tags: ["a"] → ["a", "b"]',
        '+ audience: "new.csv"',
        '~ journey.fallbacks[0].content.text: "Hi {{ name | there }}, your appointment is on '
        '{{appointment_date}}." → "New text"',
        '+ journey.fallbacks[1]: voice step via "clinic-voice"',
        '- journey.follow_up: email step via "clinic-email" after 2 days',
    ]


def test_diff_reports_a_content_type_change_as_one_replacement() -> None:
    before = base_spec()
    email = reminder_journey().follow_up
    assert email is not None
    after = base_spec(
        journey=reminder_journey(
            fallbacks=(Step(integration=email.integration, content=email.content),)
        )
    )
    changes = [change for change in diff_specs(before, after) if "fallbacks" in change.path]
    assert [change.path for change in changes] == [
        "journey.fallbacks[0].integration.name",
        "journey.fallbacks[0].integration.kind",
        "journey.fallbacks[0].content",
    ]


def test_schedule_now_or_absent_means_start_on_launch() -> None:
    text = dump_spec(base_spec())
    assert parse_spec(text).schedule is None
    assert parse_spec(text + "schedule: now\n").schedule is None
    assert "schedule" not in dump_spec(parse_spec(text + "schedule: now\n"))


def test_an_ambiguous_schedule_needs_its_offset() -> None:
    text = dump_spec(base_spec())
    ambiguous = text + "schedule:\n  at: 2025-10-26 02:30\n  timezone: Europe/Berlin\n"
    with pytest.raises(ValidationError, match="ambiguous") as caught:
        parse_spec(ambiguous)
    assert caught.value.field == "schedule.at"
    chosen = parse_spec(ambiguous + "  utc_offset: '+01:00'\n")
    assert chosen.schedule is not None
    assert chosen.schedule.start_utc() == datetime.fromisoformat("2025-10-26T01:30:00+00:00")
    assert parse_spec(dump_spec(chosen)) == chosen


def test_a_past_schedule_still_parses() -> None:
    text = dump_spec(base_spec()) + "schedule: {at: 2001-01-01 09:00, timezone: UTC}\n"
    assert parse_spec(text).schedule is not None


EXAMPLE = documented_example()


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment"),
    [
        (
            "Reply YES to confirm.",
            "Reply {{ YES to confirm.",
            "journey.fallbacks[0].content.text",
            "(line 32): '{{' is never closed with '}}' at line 2, column 7",
        ),
        (
            "kind: infobip_sms\n      content",
            "kind: sms\n      content",
            "journey.fallbacks[0].integration.kind",
            "(line 29): Input should be 'whatsapp'",
        ),
        ("clinic-north]", "Clinic North]", "tags[1]", "try 'clinic-north'"),
        ("  version: 3", "  version: 0", "agent.version", "greater than or equal to 1"),
        ("default_region: US", "default_region: USA", "default_region", "two-letter country code"),
        (
            "        - column: appointment_date",
            "        - colum: appointment_date",
            "journey.primary.content.body[1].colum",
            "unknown key",
        ),
        (
            "      type: whatsapp_template\n",
            "",
            "journey.primary.content",
            "the key 'type' is required",
        ),
        (
            "      type: whatsapp_template",
            "      type: sms",
            "journey.primary.content.text",
            "a required key is missing",
        ),
        ("  follow_up:", "  follow_upp:", "journey.follow_upp", "unknown key"),
        (
            "timezone: America/New_York",
            "timezone: America/NewYork",
            "schedule.timezone",
            "did you mean America/New_York",
        ),
        (
            "at: 2024-09-09 09:00",
            "at: 2025-03-09 02:30",
            "schedule.at",
            "does not exist in America/New_York",
        ),
        ("at: 2024-09-09 09:00", "at: 2024-09-09 09:00+02:00", "schedule.at", "without offset"),
        ("at: 2024-09-09 09:00", "at: next monday", "schedule.at", "valid datetime"),
        (
            "    delay_days: 2",
            "    delay_days: 1.5",
            "journey.follow_up.delay_days",
            "fractional part",
        ),
        (
            "      kind: whatsapp\n",
            "      kind: email_smtp\n",
            "journey.primary",
            "content type 'whatsapp_template' cannot be sent through the email_smtp integration",
        ),
    ],
)
def test_errors_name_the_path_of_the_offending_key(
    old: str, new: str, field: str, fragment: str
) -> None:
    assert old in EXAMPLE
    with pytest.raises(ValidationError) as caught:
        parse_spec(EXAMPLE.replace(old, new, 1))
    assert caught.value.field == field
    assert fragment in caught.value.message


def test_every_problem_is_reported_at_once() -> None:
    text = EXAMPLE.replace("  version: 3", "  version: 0").replace(
        "default_region: US", "default_region: x"
    )
    with pytest.raises(ValidationError) as caught:
        parse_spec(text)
    assert caught.value.message.startswith("agent.version (line 5): ")
    assert "; default_region (line 7): " in caught.value.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: [unclosed", "not valid YAML at line "),
        ("name: a\nname: b\n", "duplicate key 'name'"),
        ("- a list", "a campaign spec is a mapping"),
        ("", "a campaign spec is a mapping"),
        ("name: !!python/object:os.system x", "not valid YAML"),
    ],
)
def test_unreadable_specs(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(fragment)):
        parse_spec(text)


def test_yaml_norway_and_dates_stay_text() -> None:
    text = EXAMPLE.replace("language: en_US", "language: no").replace(
        "name: Appointment reminders — September", "name: 2025"
    )
    spec = parse_spec(text)
    assert spec.name == "2025"
    content = spec.journey.primary.content
    assert isinstance(content, WhatsAppTemplateContent)
    assert content.language == "no"
    assert "language: 'no'" in dump_spec(spec)


def test_too_many_tags() -> None:
    with pytest.raises(ValidationError, match="at most 20") as caught:
        parse_spec(EXAMPLE.replace("[reminders, clinic-north]", str([f"t{n}" for n in range(21)])))
    assert caught.value.field == "tags"


def test_yaml_1_1_numbers_do_not_swallow_offsets_or_codes() -> None:
    text = dump_spec(base_spec()) + (
        "schedule:\n  at: 2025-04-06 01:45\n  timezone: Australia/Lord_Howe\n  utc_offset: +10:30\n"
    )
    schedule = parse_spec(text).schedule
    assert schedule is not None
    assert schedule.utc_offset == "+10:30"
    assert schedule.start_utc() == datetime.fromisoformat("2025-04-05T15:15:00+00:00")


TRICKY_SCALARS = [
    "1.5e3",
    "-.5",
    ".5",
    "017",
    "+10:30",
    "0x1f",
    "1_000",
    "yes",
    "No",
    "on",
    "true",
    "null",
    "~",
    "2024-09-09",
    "2024-09-09 09:00:00",
    "- item",
    "key: value",
    "#hash",
    "'quoted'",
    '"double"',
    "a\rb",
    "a\x85b",
    "a\u2028b",
    "line\n",
    "\n\nx",
    " lead",
    "trail ",
    "\ufeffbom",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "|",
    ">",
    "...",
    "---",
]


@pytest.mark.parametrize("text", TRICKY_SCALARS)
def test_tricky_texts_read_back_as_themselves(text: str) -> None:
    spec = base_spec(name=text, audience=text)
    assert parse_spec(dump_spec(spec)) == spec


@given(st.text(st.characters(exclude_categories=("Cs",)), min_size=1).filter(str.strip))
def test_any_text_reads_back_as_itself(text: str) -> None:
    spec = base_spec(name=text, tags=(), audience=text)
    assert parse_spec(dump_spec(spec)).name == text


# --- round trip over generated specs ----------------------------------------

_plain = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="{}"), max_size=30)
_columns = st.sampled_from(["name", "appointment_date", "phone", "email", "clinic.name"])


@st.composite
def _template_text(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.tuples(_plain, _columns, st.none() | _plain), max_size=3))
    tail = draw(_plain)
    parts = []
    for text, column, default in pieces:
        variable = column if default is None else f"{column}|{default.replace('|', '')}"
        parts.append(f"{text}{{{{{variable}}}}}")
    return "".join(parts) + tail


_one_line = _template_text().map(lambda text: re.sub(r"[\r\n\x85\u2028\u2029]", " ", text))
_parameter = st.one_of(
    st.builds(TemplateParameter.bound, _columns, st.none() | _plain),
    st.builds(TemplateParameter.fixed, _plain),
)
_whatsapp = st.builds(
    WhatsAppTemplateContent,
    name=st.from_regex(r"[a-z0-9_]{0,20}", fullmatch=True),
    language=st.sampled_from(["", "en", "en_US", "no", "pt_BR"]),
    body=st.lists(_parameter, max_size=3).map(tuple),
    header_text=st.none() | _parameter,
    buttons=st.lists(
        st.builds(
            TemplateButton,
            index=st.integers(0, 9),
            type=st.sampled_from(ButtonType),
            parameter=_parameter,
        ),
        max_size=2,
        unique_by=lambda button: button.index,
    ).map(tuple),
)
_voice = st.builds(
    VoiceContent,
    text=_template_text(),
    language=st.sampled_from(["en-US", "es-ES", "de"]),
    keypress=st.none()
    | st.builds(
        KeypressCapture,
        prompt=_template_text(),
        options=st.dictionaries(
            st.sampled_from(list("0123456789*#")), _plain.filter(str.strip), min_size=1
        ),
        timeout_seconds=st.integers(1, 60),
    ),
)
_email = st.builds(
    EmailContent, subject=_one_line, text=_template_text(), html=st.none() | _template_text()
)
_contents = {
    IntegrationKind.WHATSAPP: _whatsapp | st.builds(WhatsAppTextContent, text=_template_text()),
    IntegrationKind.INFOBIP_SMS: st.builds(SmsContent, text=_template_text()),
    IntegrationKind.TWILIO_VOICE: _voice,
    IntegrationKind.EMAIL_SMTP: _email,
}


@st.composite
def _step(draw: st.DrawFn, *, follow_up: bool = False) -> Step:
    kind = draw(st.sampled_from(IntegrationKind))
    fields = {
        "integration": IntegrationRef(name=draw(_plain.filter(str.strip)), kind=kind),
        "content": draw(_contents[kind]),
        "delivery_window_minutes": draw(st.none() | st.integers(1, 10080)),
    }
    if follow_up:
        return FollowUp(delay_days=draw(st.integers(-3, 30)), **fields)
    return Step(**fields)


def _resolvable(schedule: ScheduleSpec) -> bool:
    try:
        local_to_utc(schedule.at, schedule.timezone, utc_offset=schedule.utc_offset)
    except ValidationError:
        return False
    return True


_schedules = st.builds(
    ScheduleSpec,
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"]),
).filter(_resolvable)

_specs = st.builds(
    CampaignSpec,
    name=_plain.filter(str.strip),
    tags=st.lists(
        st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True), max_size=3
    ).map(tuple),
    agent=st.none()
    | st.builds(AgentRef, name=_plain.filter(str.strip), version=st.none() | st.integers(1, 99)),
    audience=st.none() | _plain.filter(bool),
    default_region=st.none() | st.sampled_from(["US", "DE", "IN"]),
    journey=st.builds(
        JourneyDefinition,
        primary=_step(),
        fallbacks=st.lists(_step(), max_size=2).map(tuple),
        follow_up=st.none() | _step(follow_up=True),
    ),
    schedule=st.none() | _schedules,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_specs)
def test_parse_of_dump_gives_back_the_same_spec(spec: CampaignSpec) -> None:
    dumped = dump_spec(spec)
    assert parse_spec(dumped) == spec
    assert diff_specs(spec, parse_spec(dumped)) == ()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_specs, _specs)
def test_specs_differ_exactly_when_the_diff_is_not_empty(
    first: CampaignSpec, second: CampaignSpec
) -> None:
    assert (diff_specs(first, second) == ()) == (first == second)
