"""Turn a journey step into the concrete message one contact would get.

Used by the preview in the builder and, through :class:`CompiledStep`, by
whatever sends: templates are parsed once per step, then rendered per
contact with plain substitution.

Two clean-ups protect the providers and the recipient from the data:

- WhatsApp template parameters have runs of whitespace (newlines, tabs,
  repeated spaces) collapsed to one space, because WhatsApp refuses
  parameters containing newlines, tabs or long runs of spaces;
- an email subject has line breaks replaced by spaces, so a value can never
  add a header line.

The HTML part of an email escapes every substituted value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import assert_never

from herald.domain.campaign import JourneyDefinition, Step, StepSlot
from herald.domain.channels import Channel, ContactField
from herald.domain.content import (
    ButtonType,
    EmailContent,
    SmsContent,
    TemplateParameter,
    TextField,
    VoiceContent,
    WhatsAppTemplateContent,
    WhatsAppTextContent,
    text_fields,
)
from herald.domain.sms import SmsMeasure, measure_sms

_WHITESPACE_RUN = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r"[\r\n]+")


@dataclass(frozen=True, slots=True)
class ContactData:
    """What a message can be personalised with: custom fields, phone, email."""

    fields: Mapping[str, str | None] = field(default_factory=dict)
    phone: str | None = None
    email: str | None = None

    def values(self) -> dict[str, str | None]:
        """Variable values; ``phone`` and ``email`` win over same-named custom fields."""
        return {**self.fields, "phone": self.phone, "email": self.email}

    def has(self, needed: ContactField) -> bool:
        value = self.phone if needed is ContactField.PHONE else self.email
        return bool(value and value.strip())


@dataclass(frozen=True, slots=True)
class EmptyValue:
    """A variable or bound parameter with no value for this contact."""

    path: str
    name: str
    default: str | None


@dataclass(frozen=True, slots=True)
class RenderedButton:
    index: int
    type: ButtonType
    value: str


@dataclass(frozen=True, slots=True)
class WhatsAppTemplateMessage:
    name: str
    language: str
    header_text: str | None
    body: tuple[str, ...]
    buttons: tuple[RenderedButton, ...]


@dataclass(frozen=True, slots=True)
class WhatsAppTextMessage:
    text: str


@dataclass(frozen=True, slots=True)
class SmsMessage:
    text: str
    measure: SmsMeasure


@dataclass(frozen=True, slots=True)
class KeypressPrompt:
    prompt: str
    options: Mapping[str, str]
    timeout_seconds: int


@dataclass(frozen=True, slots=True)
class VoiceMessage:
    text: str
    language: str
    keypress: KeypressPrompt | None


@dataclass(frozen=True, slots=True)
class EmailMessage:
    subject: str
    text: str
    html: str | None


Message = WhatsAppTemplateMessage | WhatsAppTextMessage | SmsMessage | VoiceMessage | EmailMessage


@dataclass(frozen=True, slots=True)
class StepPreview:
    """The message, the values that were empty, and whether the contact would skip it.

    ``missing_field`` is set when the contact lacks the data the channel
    needs: the message is still rendered (for the preview) but the journey
    skips this step for this contact.
    """

    channel: Channel
    message: Message
    empty: tuple[EmptyValue, ...]
    missing_field: ContactField | None

    @property
    def would_skip(self) -> bool:
        return self.missing_field is not None


class _Renderer:
    """Renders one contact's values and collects what was empty."""

    def __init__(self, values: Mapping[str, str | None], fields: Mapping[str, TextField]):
        self.values = values
        self.fields = fields
        self.empty: list[EmptyValue] = []

    def text(self, path: str) -> str:
        text_field = self.fields[path]
        rendering = text_field.template.render(self.values, escape_html=text_field.escape_html)
        self.empty.extend(EmptyValue(path, item.name, item.default) for item in rendering.empty)
        return rendering.text

    def parameter(self, path: str, parameter: TemplateParameter) -> str:
        if parameter.text is not None:
            return _one_line_parameter(parameter.text)
        assert parameter.column is not None
        value = self.values.get(parameter.column)
        if value is None or not value.strip():
            self.empty.append(EmptyValue(path, parameter.column, parameter.default))
            value = parameter.default or ""
        return _one_line_parameter(value)


class CompiledStep:
    """A step with its templates parsed once, ready to render for many contacts."""

    def __init__(self, step: Step) -> None:
        self.step = step
        self._fields = {item.path: item for item in text_fields(step.content)}

    def render(self, contact: ContactData) -> StepPreview:
        renderer = _Renderer(contact.values(), self._fields)
        message = _render_content(self.step, renderer)
        needed = self.step.required_field
        missing = None if contact.has(needed) else needed
        return StepPreview(self.step.channel, message, tuple(renderer.empty), missing)


def render_step(step: Step, contact: ContactData) -> StepPreview:
    """Render ``step`` for ``contact`` (compile once with :class:`CompiledStep` for many)."""
    return CompiledStep(step).render(contact)


def preview_journey(
    journey: JourneyDefinition, contact: ContactData
) -> tuple[tuple[StepSlot, StepPreview], ...]:
    """Every step of ``journey`` rendered for ``contact``, in journey order."""
    return tuple((slot, render_step(slot.step, contact)) for slot in journey.slots)


def _render_content(step: Step, renderer: _Renderer) -> Message:
    content = step.content
    if isinstance(content, WhatsAppTemplateContent):
        return _render_whatsapp_template(content, renderer)
    if isinstance(content, WhatsAppTextContent):
        return WhatsAppTextMessage(renderer.text("content.text"))
    if isinstance(content, SmsContent):
        text = renderer.text("content.text")
        return SmsMessage(text, measure_sms(text))
    if isinstance(content, VoiceContent):
        return _render_voice(content, renderer)
    if isinstance(content, EmailContent):
        subject = _LINE_BREAKS.sub(" ", renderer.text("content.subject")).strip()
        text = renderer.text("content.text")
        html = renderer.text("content.html") if content.html is not None else None
        return EmailMessage(subject, text, html)
    assert_never(content)


def _render_whatsapp_template(
    content: WhatsAppTemplateContent, renderer: _Renderer
) -> WhatsAppTemplateMessage:
    header = None
    if content.header_text is not None:
        header = renderer.parameter("content.header_text", content.header_text)
    body = tuple(
        renderer.parameter(f"content.body[{index}]", parameter)
        for index, parameter in enumerate(content.body)
    )
    buttons = tuple(
        RenderedButton(
            button.index,
            button.type,
            renderer.parameter(f"content.buttons[{position}].parameter", button.parameter),
        )
        for position, button in enumerate(content.buttons)
    )
    return WhatsAppTemplateMessage(content.name, content.language, header, body, buttons)


def _render_voice(content: VoiceContent, renderer: _Renderer) -> VoiceMessage:
    text = renderer.text("content.text")
    keypress = None
    if content.keypress is not None:
        prompt = renderer.text("content.keypress.prompt")
        capture = content.keypress
        keypress = KeypressPrompt(prompt, dict(capture.options), capture.timeout_seconds)
    return VoiceMessage(text, content.language, keypress)


def _one_line_parameter(value: str) -> str:
    return _WHITESPACE_RUN.sub(" ", value).strip()
