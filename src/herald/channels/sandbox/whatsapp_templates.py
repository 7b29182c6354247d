"""The sandbox's approved WhatsApp templates and the checks Meta runs on a send.

A template send is checked against its definition the way the Cloud API
does: unknown name or language → 132001, paused → 132015, disabled → 132016,
wrong number of parameters → 132000, a parameter of the wrong kind → 132012,
a missing value → 131008. A template still PENDING review or REJECTED counts
as not existing for sends (132001), as Meta treats a template that is not
approved. The same catalogue answers the account's template list (see
:mod:`herald.channels.sandbox.whatsapp_catalogue`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herald.domain.whatsapp_templates import count_body_parameters

MEDIA_FORMATS = frozenset({"image", "video", "document"})
BODY_PARAMETER_TYPES = frozenset({"text", "currency", "date_time"})


@dataclass(frozen=True)
class RequestError:
    """A refusal in Meta's terms: the error code and its ``error_data.details``."""

    code: int
    details: str


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    languages: frozenset[str]
    category: str  # marketing, utility, authentication: echoed in pricing
    body: str = ""  # the body text; each distinct {{n}} is one body parameter
    header: str | None = None  # None, "text" (one parameter), or a media format
    buttons: tuple[str, ...] = ()  # sub_type per index: "quick_reply" or "url" (dynamic)
    status: str = "APPROVED"  # or PENDING, REJECTED, PAUSED, DISABLED

    @property
    def body_parameters(self) -> int:
        return count_body_parameters(self.body)


def _spec(name: str, languages: str, category: str, **kwargs: Any) -> TemplateSpec:
    return TemplateSpec(name, frozenset(languages.split()), category, **kwargs)


TEMPLATES: dict[str, TemplateSpec] = {
    spec.name: spec
    for spec in (
        _spec("hello_world", "en en_US", "utility", body="Hello from Herald!"),
        _spec(
            "appointment_reminder",
            "en es",
            "utility",
            body="Hi {{1}}, this is a reminder of your appointment on {{2}}. Reply YES to confirm.",
            buttons=("quick_reply", "quick_reply"),
        ),
        _spec(
            "order_update",
            "en es",
            "utility",
            header="image",
            body="Hi {{1}}, your order {{2}} is on its way.",
            buttons=("quick_reply", "url"),
        ),
        _spec(
            "shipping_update",
            "en",
            "utility",
            header="text",
            body="Your parcel ships today: track it with code {{1}}.",
        ),
        _spec(
            "campaign_offer",
            "en es pt_BR",
            "marketing",
            body="{{1}}, our members get 20% off this week. Interested?",
            buttons=("quick_reply", "quick_reply"),
        ),
        _spec(
            "spring_sale",
            "en es",
            "marketing",
            body="Spring sale for {{1}}!",
            status="PAUSED",
        ),
        _spec("legacy_offer", "en", "marketing", body="Our old offer.", status="DISABLED"),
        _spec(
            "feedback_survey",
            "en",
            "utility",
            body="How was your visit, {{1}}? Answer in one tap.",
            status="PENDING",
        ),
        _spec("winter_promo", "en", "marketing", body="Winter deals inside!", status="REJECTED"),
    )
}


def check_template(template: Any) -> tuple[TemplateSpec | None, RequestError | None]:
    """The template's definition and the first problem with the request, if any."""
    if not isinstance(template, dict):
        return None, RequestError(131008, "template is required for type template")
    name = template.get("name")
    language = template.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    if not isinstance(name, str) or not name:
        return None, RequestError(131008, "template.name is required")
    if not isinstance(code, str) or not code:
        return None, RequestError(131008, "template.language.code is required")
    spec = TEMPLATES.get(name)
    if spec is None or code not in spec.languages:
        return None, RequestError(132001, f"template name ({name}) does not exist in {code}")
    if spec.status == "PAUSED":
        return spec, RequestError(132015, f"template {name} is paused due to low quality")
    if spec.status == "DISABLED":
        return spec, RequestError(132016, f"template {name} has been disabled")
    if spec.status != "APPROVED":
        return None, RequestError(132001, f"template name ({name}) is not approved in {code}")
    return spec, _check_components(spec, template.get("components", []))


def _check_components(spec: TemplateSpec, components: Any) -> RequestError | None:
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        return RequestError(100, "template.components must be a list of objects")
    by_type: dict[str, list[dict[str, Any]]] = {"header": [], "body": [], "button": []}
    for component in components:
        kind = component.get("type")
        if kind not in by_type:
            return RequestError(100, f"component type {kind!r} is not header, body or button")
        by_type[kind].append(component)
    return (
        _check_header(spec, _parameters(by_type["header"]))
        or _check_body(spec, _parameters(by_type["body"]))
        or _check_buttons(spec, by_type["button"])
    )


def _parameters(components: list[dict[str, Any]]) -> list[Any]:
    parameters: list[Any] = []
    for component in components:
        value = component.get("parameters", [])
        parameters.extend(value if isinstance(value, list) else [value])
    return parameters


def _check_body(spec: TemplateSpec, parameters: list[Any]) -> RequestError | None:
    if len(parameters) != spec.body_parameters:
        return RequestError(
            132000,
            f"body: number of localizable_params ({len(parameters)}) does not match "
            f"the expected number of params ({spec.body_parameters})",
        )
    for position, parameter in enumerate(parameters, start=1):
        kind = parameter.get("type") if isinstance(parameter, dict) else None
        if kind not in BODY_PARAMETER_TYPES:
            return RequestError(132012, f"body parameter {position}: type {kind!r} not allowed")
        assert isinstance(parameter, dict)
        if kind == "text" and not _filled(parameter.get("text")):
            return RequestError(131008, f"body parameter {position} of type text has no text")
    return None


def _check_header(spec: TemplateSpec, parameters: list[Any]) -> RequestError | None:
    expected = 0 if spec.header is None else 1
    if spec.header in MEDIA_FORMATS and not parameters:
        return RequestError(131008, f"header: a parameter of type {spec.header} is required")
    if len(parameters) != expected:
        return RequestError(
            132000,
            f"header: number of params ({len(parameters)}) does not match "
            f"the expected number of params ({expected})",
        )
    if not parameters:
        return None
    parameter = parameters[0]
    kind = parameter.get("type") if isinstance(parameter, dict) else None
    if kind != spec.header:
        wanted = str(spec.header).upper()
        return RequestError(
            132012, f"header: format mismatch, expected {wanted}, received {str(kind).upper()}"
        )
    assert isinstance(parameter, dict)
    if kind == "text":
        return None if _filled(parameter.get("text")) else RequestError(131008, "header text")
    media = parameter.get(kind)
    if not isinstance(media, dict) or not (_filled(media.get("link")) or _filled(media.get("id"))):
        return RequestError(131008, f"header: {kind} needs a link or an id")
    return None


def _check_buttons(spec: TemplateSpec, buttons: list[dict[str, Any]]) -> RequestError | None:
    given: dict[int, dict[str, Any]] = {}
    for button in buttons:
        index = button.get("index")
        position = int(index) if isinstance(index, str | int) and str(index).isdigit() else -1
        if not 0 <= position < len(spec.buttons):
            return RequestError(131009, f"button index {index!r} does not exist in the template")
        if button.get("sub_type") != spec.buttons[position]:
            return RequestError(
                132012, f"button {position}: sub_type must be {spec.buttons[position]}"
            )
        given[position] = button
        problem = _check_button_parameter(position, spec.buttons[position], button)
        if problem is not None:
            return problem
    for position, sub_type in enumerate(spec.buttons):
        if sub_type == "url" and position not in given:
            return RequestError(
                131008, f"button at index {position} of type Url requires a parameter"
            )
    return None


def _check_button_parameter(
    position: int, sub_type: str, button: dict[str, Any]
) -> RequestError | None:
    parameters = button.get("parameters")
    if not isinstance(parameters, list) or len(parameters) != 1:
        return RequestError(132000, f"button {position}: expected exactly one parameter")
    parameter = parameters[0]
    field = "payload" if sub_type == "quick_reply" else "text"
    if not isinstance(parameter, dict) or parameter.get("type") != field:
        return RequestError(132012, f"button {position}: parameter type must be {field}")
    if not _filled(parameter.get(field)):
        return RequestError(131008, f"button {position}: {field} is empty")
    return None


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
