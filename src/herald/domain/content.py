"""What a journey step says, per channel.

Each content model is tagged by ``type`` so a step serialises to JSON/YAML
as a plain mapping and comes back as the right model:

- ``whatsapp_template`` (WhatsApp): approved template ``name`` and
  ``language``, positional ``body`` parameters, optional ``header_text``
  parameter, ``buttons`` parameters;
- ``whatsapp_text`` (WhatsApp): free-form ``text``, valid only inside a 24 h
  service window, so the checks refuse it in a campaign;
- ``sms``: ``text``;
- ``voice``: ``text`` to speak, ``language``, optional ``keypress`` capture;
- ``email``: ``subject``, ``text``, optional ``html``.

Text fields are templates (see :mod:`herald.domain.templates`) and are
parsed when the model is built, so a malformed ``{{`` is refused with its
path. A WhatsApp template parameter is bound to a column (optionally with a
default) or is fixed text; fixed text is never parsed for variables.

Models accept empty strings: a draft may be incomplete. The pre-launch
checks report empty content; the models only refuse what is malformed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from herald.domain.channels import Channel
from herald.domain.modeling import FrozenModel
from herald.domain.templates import VARIABLE_NAME, Template, parse_template
from herald.errors import ValidationError

WHATSAPP_TEXT_MAX_CHARACTERS = 4096
WHATSAPP_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
WHATSAPP_LANGUAGE = re.compile(r"[a-z]{2,3}(?:_[A-Z][A-Za-z]{1,3})?")
VOICE_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
KEYPRESS_KEYS = frozenset("0123456789*#")


class ContentType(StrEnum):
    WHATSAPP_TEMPLATE = "whatsapp_template"
    WHATSAPP_TEXT = "whatsapp_text"
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"


CHANNEL_OF_CONTENT: dict[ContentType, Channel] = {
    ContentType.WHATSAPP_TEMPLATE: Channel.WHATSAPP,
    ContentType.WHATSAPP_TEXT: Channel.WHATSAPP,
    ContentType.SMS: Channel.SMS,
    ContentType.VOICE: Channel.VOICE,
    ContentType.EMAIL: Channel.EMAIL,
}

CONTENT_UNION_TAGS: dict[str, frozenset[str]] = {"content": frozenset(ContentType)}
"""For :func:`herald.domain.modeling.validate_model`: keep content tags out of paths."""


def _checked_template(text: str) -> str:
    try:
        parse_template(text)
    except ValidationError as exc:
        raise ValueError(exc.message) from exc
    return text


TemplateText = Annotated[str, AfterValidator(_checked_template)]
"""A text field holding a template: parsed on validation so syntax errors carry the path."""


class TemplateParameter(FrozenModel):
    """A WhatsApp template parameter: ``{column: name, default: there}`` or ``{text: ...}``."""

    column: str | None = None
    text: str | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TemplateParameter:
        if (self.column is None) == (self.text is None):
            raise ValueError("a parameter takes exactly one of 'column' or 'text'")
        if self.column is not None and VARIABLE_NAME.fullmatch(self.column) is None:
            raise ValueError(f"{self.column!r} is not a column name")
        if self.text is not None and self.default is not None:
            raise ValueError("'default' only applies to a 'column' parameter")
        return self

    @classmethod
    def bound(cls, column: str, default: str | None = None) -> TemplateParameter:
        return cls(column=column, default=default)

    @classmethod
    def fixed(cls, text: str) -> TemplateParameter:
        return cls(text=text)


class ButtonType(StrEnum):
    QUICK_REPLY = "quick_reply"
    URL = "url"


class TemplateButton(FrozenModel):
    """A button's dynamic part: a quick-reply payload or a URL suffix."""

    index: Annotated[int, Field(ge=0, le=9)]
    type: ButtonType
    parameter: TemplateParameter


class WhatsAppTemplateContent(FrozenModel):
    type: Literal["whatsapp_template"] = "whatsapp_template"
    name: str
    language: str
    body: tuple[TemplateParameter, ...] = ()
    header_text: TemplateParameter | None = None
    buttons: tuple[TemplateButton, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if name and WHATSAPP_TEMPLATE_NAME.fullmatch(name) is None:
            raise ValueError(
                f"{name!r} is not a WhatsApp template name (lowercase letters, digits, '_')"
            )
        return name

    @field_validator("language")
    @classmethod
    def _language(cls, language: str) -> str:
        if language and WHATSAPP_LANGUAGE.fullmatch(language) is None:
            raise ValueError(f"{language!r} is not a template language code such as en or en_US")
        return language

    @field_validator("buttons")
    @classmethod
    def _distinct_buttons(cls, buttons: tuple[TemplateButton, ...]) -> tuple[TemplateButton, ...]:
        indexes = [button.index for button in buttons]
        if len(set(indexes)) != len(indexes):
            raise ValueError("two buttons share one index")
        return buttons


class WhatsAppTextContent(FrozenModel):
    type: Literal["whatsapp_text"] = "whatsapp_text"
    text: Annotated[TemplateText, Field(max_length=WHATSAPP_TEXT_MAX_CHARACTERS)]


class SmsContent(FrozenModel):
    type: Literal["sms"] = "sms"
    text: TemplateText


class KeypressCapture(FrozenModel):
    """Ask for one key after the message: ``options`` maps a key to its meaning."""

    prompt: TemplateText
    options: dict[str, str]
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 5

    @field_validator("options")
    @classmethod
    def _options(cls, options: dict[str, str]) -> dict[str, str]:
        if not options:
            raise ValueError("give at least one key, e.g. {'1': 'confirm'}")
        for key, meaning in options.items():
            if key not in KEYPRESS_KEYS:
                raise ValueError(f"key {key!r} is not one phone key (0-9, * or #)")
            if not meaning.strip():
                raise ValueError(f"key {key!r} needs a meaning")
        return options


class VoiceContent(FrozenModel):
    type: Literal["voice"] = "voice"
    text: TemplateText
    language: str = "en-US"
    keypress: KeypressCapture | None = None

    @field_validator("language")
    @classmethod
    def _language(cls, language: str) -> str:
        if VOICE_LANGUAGE.fullmatch(language) is None:
            raise ValueError(f"{language!r} is not a language tag such as en-US")
        return language


class EmailContent(FrozenModel):
    type: Literal["email"] = "email"
    subject: TemplateText
    text: TemplateText
    html: TemplateText | None = None

    @field_validator("subject")
    @classmethod
    def _one_line(cls, subject: str) -> str:
        if "\n" in subject or "\r" in subject:
            raise ValueError("the subject must be one line")
        return subject


Content = Annotated[
    WhatsAppTemplateContent | WhatsAppTextContent | SmsContent | VoiceContent | EmailContent,
    Field(discriminator="type"),
]


def channel_of_content(content: Content) -> Channel:
    return CHANNEL_OF_CONTENT[ContentType(content.type)]


@dataclass(frozen=True, slots=True)
class TextField:
    """A template-bearing field of a content: its path below the step and how it renders."""

    path: str
    template: Template
    escape_html: bool = False


@dataclass(frozen=True, slots=True)
class VariableUse:
    """One reference to an audience column, with the default that covers it if any."""

    path: str
    name: str
    default: str | None


def text_fields(content: Content) -> tuple[TextField, ...]:
    """The template fields of ``content``, parsed, in display order."""
    return tuple(
        TextField(path, parse_template(source, field=path), escape)
        for path, source, escape in _sources(content)
    )


def variable_uses(content: Content) -> tuple[VariableUse, ...]:
    """Every column ``content`` reads: template variables and bound parameters."""
    uses = [
        VariableUse(item.path, variable.name, variable.default)
        for item in text_fields(content)
        for variable in item.template.variables
    ]
    for path, parameter in template_parameters(content):
        if parameter.column is not None:
            uses.append(VariableUse(path, parameter.column, parameter.default))
    return tuple(uses)


def template_parameters(content: Content) -> Iterator[tuple[str, TemplateParameter]]:
    """WhatsApp template parameters with their paths (nothing for other contents)."""
    if not isinstance(content, WhatsAppTemplateContent):
        return
    if content.header_text is not None:
        yield "content.header_text", content.header_text
    for index, parameter in enumerate(content.body):
        yield f"content.body[{index}]", parameter
    for position, button in enumerate(content.buttons):
        yield f"content.buttons[{position}].parameter", button.parameter


def _sources(content: Content) -> Iterator[tuple[str, str, bool]]:
    if isinstance(content, SmsContent | WhatsAppTextContent):
        yield "content.text", content.text, False
    elif isinstance(content, VoiceContent):
        yield "content.text", content.text, False
        if content.keypress is not None:
            yield "content.keypress.prompt", content.keypress.prompt, False
    elif isinstance(content, EmailContent):
        yield "content.subject", content.subject, False
        yield "content.text", content.text, False
        if content.html is not None:
            yield "content.html", content.html, True
