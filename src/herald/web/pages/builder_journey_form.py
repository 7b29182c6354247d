"""The message-journey form: from posted fields to a journey and back.

The journey step is one HTML form. Each step of the journey has its fields
under a prefix, its key (``primary.integration``, ``fallback-2.sms_text``,
``follow-up.wa_param_source``...), and the hidden ``steps`` field lists the
keys in order. Editors for every channel are in the form; only the one that
fits the chosen integration's kind is read, so switching the integration
back and forth loses nothing typed.

What is built is plain data in the shape of
:class:`~herald.domain.campaign.JourneyDefinition`; a draft stores it even
when incomplete, and the checks say what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from herald.domain.campaign import FOLLOW_UP_MAX_DAYS, FOLLOW_UP_MIN_DAYS
from herald.domain.channels import IntegrationKind

PRIMARY = "primary"
FOLLOW_UP = "follow-up"
FALLBACK_PREFIX = "fallback-"
DEFAULT_DELAY_DAYS = 2
MAX_TEMPLATE_PARAMETERS = 100
"""More body parameters than any template has: a forged choice cannot grow the form further."""
FIXED_TEXT = ""
"""The parameter source meaning "fixed text" rather than a column."""

FormData = Mapping[str, Sequence[str]]

KEPT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "whatsapp_template": ("header_text", "buttons"),
    "voice": ("keypress",),
    "email": ("html",),
}
"""Content fields the form has no editor for (set in a campaign spec): carried through
the form unchanged in a hidden field, so saving in the browser never drops them."""


@dataclass
class ParameterForm:
    source: str = FIXED_TEXT  # a column name, or FIXED_TEXT
    text: str = ""  # the fixed text, or the column's default


@dataclass
class StepForm:
    """What the user entered for one step, for every channel's editor."""

    integration: str = ""
    wa_name: str = ""
    wa_language: str = "en"
    params: list[ParameterForm] = field(default_factory=list)
    sms_text: str = ""
    voice_text: str = ""
    voice_language: str = "en-US"
    email_subject: str = ""
    email_text: str = ""
    window: str = ""
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per content type, the fields listed in :data:`KEPT_FIELDS` as stored."""

    @property
    def kept_json(self) -> str:
        return json.dumps(self.kept, ensure_ascii=False, separators=(",", ":"))

    def content(self, kind: IntegrationKind | None) -> dict[str, Any] | None:
        content = self._edited_content(kind)
        if content is not None:
            content |= self.kept.get(content["type"], {})
        return content

    def _edited_content(self, kind: IntegrationKind | None) -> dict[str, Any] | None:
        if kind is IntegrationKind.WHATSAPP:
            return {
                "type": "whatsapp_template",
                "name": self.wa_name.strip(),
                "language": self.wa_language.strip(),
                "body": [_parameter(param) for param in self.params],
            }
        if kind is IntegrationKind.INFOBIP_SMS:
            return {"type": "sms", "text": self.sms_text}
        if kind is IntegrationKind.TWILIO_VOICE:
            return {
                "type": "voice",
                "text": self.voice_text,
                "language": self.voice_language.strip() or "en-US",
            }
        if kind is IntegrationKind.EMAIL_SMTP:
            return {"type": "email", "subject": self.email_subject, "text": self.email_text}
        return None


@dataclass
class JourneyForm:
    primary: StepForm = field(default_factory=StepForm)
    fallbacks: list[StepForm] = field(default_factory=list)
    follow_up: StepForm = field(default_factory=StepForm)
    has_follow_up: bool = False
    delay_days: int = DEFAULT_DELAY_DAYS

    @property
    def has_fallbacks(self) -> bool:
        return bool(self.fallbacks)

    def keyed_steps(self) -> list[tuple[str, StepForm]]:
        """Every step with its key, in journey order; the follow-up always (maybe switched off)."""
        fallbacks = [(f"{FALLBACK_PREFIX}{n}", step) for n, step in enumerate(self.fallbacks, 1)]
        return [(PRIMARY, self.primary), *fallbacks, (FOLLOW_UP, self.follow_up)]

    def section_keys(self) -> list[str]:
        keys = [key for key, _step in self.keyed_steps()]
        return keys if self.has_follow_up else keys[:-1]

    def to_journey(self, kinds: Mapping[str, IntegrationKind]) -> dict[str, Any]:
        """The journey as data; a step without an integration keeps only what was typed."""
        journey: dict[str, Any] = {
            "primary": _step_data(self.primary, kinds),
            "fallbacks": [_step_data(step, kinds) for step in self.fallbacks],
        }
        if self.has_follow_up:
            journey["follow_up"] = _step_data(self.follow_up, kinds) | {
                "delay_days": self.delay_days
            }
        return journey


def _parameter(param: ParameterForm) -> dict[str, str]:
    if param.source == FIXED_TEXT:
        return {"text": param.text}
    bound = {"column": param.source}
    if param.text.strip():
        bound["default"] = param.text
    return bound


def _step_data(step: StepForm, kinds: Mapping[str, IntegrationKind]) -> dict[str, Any]:
    name = step.integration.strip()
    kind = kinds.get(name)
    data: dict[str, Any] = {"integration": {"name": name, "kind": None if kind is None else kind}}
    content = step.content(kind)
    if content is not None:
        data["content"] = content
    window = step.window.strip()
    if window:
        data["delivery_window_minutes"] = int(window) if window.isdigit() else window
    return data


# -- from the posted form ---------------------------------------------------------


def parse_form(form: FormData) -> JourneyForm:
    """The form as the user left it (nothing validated: the checks do that)."""
    keys = [key for key in form.get("steps", ()) if key]
    fallback_keys = [key for key in keys if key.startswith(FALLBACK_PREFIX)]
    fallbacks: list[StepForm] = []
    if _checked(form, "fallbacks_on"):
        # Switching the toggle on asks for a fallback: start one if none is there yet.
        fallbacks = [_step_from_form(form, key) for key in fallback_keys] or [StepForm()]
    return JourneyForm(
        primary=_step_from_form(form, PRIMARY),
        fallbacks=fallbacks,
        follow_up=_step_from_form(form, FOLLOW_UP),
        has_follow_up=_checked(form, "follow_up_on"),
        delay_days=_delay(_first(form, "follow_up_delay")),
    )


def _first(form: FormData, name: str, default: str = "") -> str:
    values = form.get(name, ())
    return values[0] if values else default


def _checked(form: FormData, name: str) -> bool:
    return _first(form, name) in ("on", "true", "1")


def _delay(text: str) -> int:
    """The delay as chosen; a value outside 1-7 is kept so the checks can name it."""
    try:
        return int(text)
    except ValueError:
        return DEFAULT_DELAY_DAYS


def _step_from_form(form: FormData, key: str) -> StepForm:
    def value(name: str, default: str = "") -> str:
        return _first(form, f"{key}.{name}", default)

    step = _typed_step(form, key)
    chosen = value("wa_template")
    if chosen and chosen != value("wa_template_shown"):
        return apply_template_choice(step, chosen)
    return step


def apply_template_choice(step: StepForm, choice: str) -> StepForm:
    """A template picked from the list (``name|language|parameters``) fills the name and
    language and makes the parameter rows as many as the template's placeholders.

    Only a choice that changed since the page was shown is applied (see
    ``wa_template_shown``), so a name typed by hand afterwards wins.
    """
    name, _, rest = choice.partition("|")
    language, _, count = rest.partition("|")
    if not name or not language or not count.isdigit():
        return step
    wanted = min(int(count), MAX_TEMPLATE_PARAMETERS)
    params = step.params[:wanted] + [ParameterForm() for _ in range(wanted - len(step.params))]
    return replace(step, wa_name=name, wa_language=language, params=params)


def _typed_step(form: FormData, key: str) -> StepForm:
    def value(name: str, default: str = "") -> str:
        return _first(form, f"{key}.{name}", default)

    sources = form.get(f"{key}.wa_param_source", ())
    texts = form.get(f"{key}.wa_param_text", ())
    params = [
        ParameterForm(source, texts[index] if index < len(texts) else "")
        for index, source in enumerate(sources)
    ]
    return StepForm(
        integration=value("integration"),
        wa_name=value("wa_name"),
        wa_language=value("wa_language"),
        params=params,
        sms_text=value("sms_text"),
        voice_text=value("voice_text"),
        voice_language=value("voice_language", "en-US"),
        email_subject=value("email_subject"),
        email_text=value("email_text"),
        window=value("window"),
        kept=_kept_from_form(value("kept")),
    )


def _kept_from_form(text: str) -> dict[str, dict[str, Any]]:
    """The hidden field back; anything but fields the form keeps is ignored."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        kind: {name: data[kind][name] for name in names if name in data[kind]}
        for kind, names in KEPT_FIELDS.items()
        if isinstance(data.get(kind), dict)
    }


# -- from a stored journey --------------------------------------------------------


def form_from_journey(journey: Mapping[str, Any] | None) -> JourneyForm:
    """The form for a stored journey, valid or not (a draft stores what was entered)."""
    if not journey:
        return JourneyForm()
    fallbacks = journey.get("fallbacks") or []
    follow_up = journey.get("follow_up")
    delay = follow_up.get("delay_days") if isinstance(follow_up, Mapping) else None
    return JourneyForm(
        primary=_step_from_data(journey.get("primary")),
        fallbacks=[_step_from_data(step) for step in fallbacks if isinstance(step, Mapping)],
        follow_up=_step_from_data(follow_up),
        has_follow_up=isinstance(follow_up, Mapping),
        delay_days=delay if isinstance(delay, int) else DEFAULT_DELAY_DAYS,
    )


def _step_from_data(data: Any) -> StepForm:
    if not isinstance(data, Mapping):
        return StepForm()
    integration = data.get("integration") or {}
    content = data.get("content") or {}
    window = data.get("delivery_window_minutes")
    kind = content.get("type")
    kept = {name: content[name] for name in KEPT_FIELDS.get(str(kind), ()) if content.get(name)}
    step = StepForm(
        integration=str(integration.get("name") or ""),
        window="" if window is None else str(window),
        kept={str(kind): kept} if kept else {},
    )
    if kind == "whatsapp_template":
        params = [_param_from_data(item) for item in content.get("body") or []]
        return replace(
            step,
            wa_name=str(content.get("name") or ""),
            wa_language=str(content.get("language") or ""),
            params=params,
        )
    if kind == "sms":
        return replace(step, sms_text=str(content.get("text") or ""))
    if kind == "voice":
        return replace(
            step,
            voice_text=str(content.get("text") or ""),
            voice_language=str(content.get("language") or "en-US"),
        )
    if kind == "email":
        return replace(
            step,
            email_subject=str(content.get("subject") or ""),
            email_text=str(content.get("text") or ""),
        )
    return step


def _param_from_data(item: Any) -> ParameterForm:
    if not isinstance(item, Mapping):
        return ParameterForm()
    if item.get("column") is not None:
        return ParameterForm(str(item["column"]), str(item.get("default") or ""))
    return ParameterForm(FIXED_TEXT, str(item.get("text") or ""))


# -- editing actions ---------------------------------------------------------------


def apply_action(journey: JourneyForm, action: str) -> tuple[JourneyForm, str | None]:
    """Apply a structural edit (``add_fallback``, ``remove:fallback-2``, ``up:fallback-2``,
    ``down:fallback-1``, ``add_param:primary``, ``remove_param:primary``).

    Returns the journey and the section to show afterwards, or None when
    ``action`` is not a structural edit.
    """
    verb, _, key = action.partition(":")
    if verb == "add_fallback":
        journey.fallbacks.append(StepForm())
        return journey, f"{FALLBACK_PREFIX}{len(journey.fallbacks)}"
    index = _fallback_index(key, len(journey.fallbacks))
    if verb == "remove" and index is not None:
        del journey.fallbacks[index]
        return journey, f"{FALLBACK_PREFIX}{index}" if index else PRIMARY
    if verb in ("up", "down") and index is not None:
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(journey.fallbacks):
            fallbacks = journey.fallbacks
            fallbacks[index], fallbacks[other] = fallbacks[other], fallbacks[index]
            return journey, f"{FALLBACK_PREFIX}{other + 1}"
        return journey, key
    step = dict(journey.keyed_steps()).get(key)
    if verb == "add_param" and step is not None:
        step.params.append(ParameterForm())
        return journey, key
    if verb == "remove_param" and step is not None:
        if step.params:
            step.params.pop()
        return journey, key
    return journey, None


def _fallback_index(key: str, count: int) -> int | None:
    number = key.removeprefix(FALLBACK_PREFIX)
    if not key.startswith(FALLBACK_PREFIX) or not number.isdigit():
        return None
    index = int(number) - 1
    return index if 0 <= index < count else None


DELAY_CHOICES = tuple(range(FOLLOW_UP_MIN_DAYS, FOLLOW_UP_MAX_DAYS + 1))
