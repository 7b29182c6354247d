"""Campaign as code: the YAML spec file, its parsing, dumping and diff.

``parse_spec`` reads YAML text (never a file: the caller reads it) into a
:class:`CampaignSpec`, or raises one ValidationError whose ``field`` is the
dotted path of the first bad key (``journey.fallbacks[0].content.text``) and
whose message lists every problem with its line. ``dump_spec`` writes a
spec back with a stable key order; ``parse_spec(dump_spec(spec)) == spec``
for every spec. ``diff_specs`` lists what applying one spec over another
changes, as readable lines; an unchanged spec gives no lines.

The YAML dialect is safe YAML with the YAML 1.1 surprises removed: only
``true``/``false`` are booleans (a language code ``no`` stays text),
numbers are plain decimals (a UTC offset ``+10:30`` is not the base-60
number 630) and dates stay text until the model reads them. Duplicate keys
are refused.
The format is documented in ``docs/campaign-spec.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import pydantic
import yaml
from pydantic import AfterValidator, BeforeValidator, Field, field_serializer, field_validator

from herald.domain.campaign import JourneyDefinition
from herald.domain.content import CONTENT_UNION_TAGS
from herald.domain.modeling import (
    FrozenModel,
    ModelValidationError,
    Problem,
    error_sentence,
    format_path,
)
from herald.domain.schedule import local_to_utc
from herald.domain.specdiff import SpecChange, diff_data
from herald.domain.tags import MAX_EXTRA_TAGS, validate_tag
from herald.errors import ValidationError

__all__ = [
    "AgentRef",
    "CampaignSpec",
    "ScheduleSpec",
    "SpecChange",
    "diff_specs",
    "dump_spec",
    "parse_spec",
    "spec_to_data",
]

_REGION = re.compile(r"[A-Z]{2}")


def _valid_tag(tag: str) -> str:
    try:
        return validate_tag(tag)
    except ValidationError as exc:
        raise ValueError(exc.message) from exc


def _now_means_none(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip().lower() == "now" else value


class AgentRef(FrozenModel):
    """The agent answering replies; without ``version`` its latest published one is pinned."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    version: Annotated[int, Field(ge=1)] | None = None


class ScheduleSpec(FrozenModel):
    """A start at a local wall-clock time in an IANA timezone.

    ``utc_offset`` picks one occurrence of a time that happens twice when
    clocks go back. The DST rules are applied by :meth:`start_utc` (and by
    :func:`parse_spec`), not on construction, so a stored schedule can be
    read back even after the time has passed.
    """

    at: datetime
    timezone: Annotated[str, Field(min_length=1)]
    utc_offset: str | None = None

    @field_validator("at")
    @classmethod
    def _local(cls, at: datetime) -> datetime:
        if at.tzinfo is not None:
            raise ValueError(
                "write a local time without offset (e.g. 2025-03-30 09:00); "
                "use utc_offset only to pick one of two ambiguous times"
            )
        return at

    @field_serializer("at")
    def _show_at(self, at: datetime) -> str:
        if at.second == 0 and at.microsecond == 0:
            return at.isoformat(sep=" ", timespec="minutes")
        return at.isoformat(sep=" ")

    def start_utc(self, *, field: str = "schedule") -> datetime:
        """The start as aware UTC; ValidationError for unknown zones and DST gaps/overlaps."""
        return local_to_utc(self.at, self.timezone, utc_offset=self.utc_offset, field=field)


class CampaignSpec(FrozenModel):
    """A whole campaign definition as a user writes it.

    ``tags`` are the extra tags (the tag derived from the name is implied and
    never written). ``audience`` is a CSV path relative to the spec file;
    absent keeps the campaign's current audience. ``schedule`` absent or
    ``now`` means "start as soon as launched".
    """

    name: Annotated[str, Field(min_length=1, max_length=200)]
    tags: tuple[Annotated[str, AfterValidator(_valid_tag)], ...] = ()
    agent: AgentRef | None = None
    audience: Annotated[str, Field(min_length=1)] | None = None
    default_region: str | None = None
    journey: JourneyDefinition
    schedule: Annotated[ScheduleSpec | None, BeforeValidator(_now_means_none)] = None

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("the name cannot be blank")
        return name

    @field_validator("tags")
    @classmethod
    def _distinct(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        distinct = tuple(dict.fromkeys(tags))
        if len(distinct) > MAX_EXTRA_TAGS:
            raise ValueError(f"{len(distinct)} tags given; at most {MAX_EXTRA_TAGS} are allowed")
        return distinct

    @field_validator("default_region")
    @classmethod
    def _region(cls, region: str | None) -> str | None:
        if region is not None and _REGION.fullmatch(region.upper()) is None:
            raise ValueError(f"{region!r} is not a two-letter country code such as US or DE")
        return None if region is None else region.upper()


def parse_spec(text: str) -> CampaignSpec:
    """Read a spec from YAML text; one ValidationError naming every bad key and its line."""
    data, root = _load(text)
    if not isinstance(data, dict):
        raise ValidationError(
            "a campaign spec is a mapping with at least 'name' and 'journey'",
            code="invalid_spec",
        )
    try:
        spec = CampaignSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ModelValidationError(_problems(exc, root)) from exc
    if spec.schedule is not None:
        spec.schedule.start_utc()
    return spec


def spec_to_data(spec: CampaignSpec) -> dict[str, Any]:
    """The spec as plain data in file order (the follow-up's delay leads its step).

    Unset optional keys and empty lists are left out: they read back as the
    same defaults.
    """
    data = _without_empty(spec.model_dump(mode="json", exclude_none=True))
    follow_up = data.get("journey", {}).get("follow_up")
    if follow_up is not None:
        data["journey"]["follow_up"] = {"delay_days": follow_up.pop("delay_days"), **follow_up}
    return data


def _without_empty(data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _without_empty(value)
        elif isinstance(value, list):
            value = [_without_empty(item) if isinstance(item, dict) else item for item in value]
        if value != []:
            cleaned[key] = value
    return cleaned


def dump_spec(spec: CampaignSpec) -> str:
    """YAML text of ``spec``, keys in a fixed order, multi-line texts as blocks."""
    return yaml.dump(
        spec_to_data(spec),
        Dumper=_SpecDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=88,
    )


def diff_specs(before: CampaignSpec, after: CampaignSpec) -> tuple[SpecChange, ...]:
    """What applying ``after`` over ``before`` changes; empty when nothing does."""
    return diff_data(spec_to_data(before), spec_to_data(after))


# --- YAML dialect -----------------------------------------------------------

try:  # libyaml's parser when PyYAML was built with it: same results, ten times faster
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _SpecLoader(_SafeLoader):
    """Safe YAML with YAML 1.2 scalars (see below) and no duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 reads "+10:30" as the base-60 integer 630, "017" as octal 15 and
# "yes"/"no"/"on"/"off" as booleans; a spec holds UTC offsets, language codes
# and times, so booleans, integers and floats are resolved as in YAML 1.2 and
# timestamps are left to the model.
_REPLACED_TAGS = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in _REPLACED_TAGS]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    # A subset of what the (YAML 1.1) dumper quotes, so text never reads back as a number.
    re.compile(
        r"^[-+]?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?$|^\.[0-9]+(?:[eE][-+][0-9]+)?$"
        r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
    ),
    list("-+0123456789."),
)


class _SpecDumper(yaml.SafeDumper):
    """Writes multi-line strings as literal blocks, which read like the message."""


# YAML reads these as line breaks (NEL becomes "\n"), so any text holding one
# is written double-quoted, where they are escaped and come back intact.
_UNICODE_BREAKS = frozenset("\x85\u2028\u2029")


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = None
    if _UNICODE_BREAKS.intersection(text):
        style = '"'
    elif "\n" in text:
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_SpecDumper.add_representer(str, _represent_text)


def _load(text: str) -> tuple[Any, yaml.Node | None]:
    """Plain data and the node tree it came from (for line numbers)."""
    loader = _SpecLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationError(
            f"the spec is not valid YAML{where}: {problem}", code="invalid_yaml"
        ) from exc
    finally:
        loader.dispose()
    return data, node


def _problems(exc: pydantic.ValidationError, root: yaml.Node | None) -> list[Problem]:
    return [
        Problem(
            format_path(error["loc"], union_tags=CONTENT_UNION_TAGS),
            error_sentence(error),
            _line_of(root, error["loc"]),
        )
        for error in exc.errors(include_url=False)
    ]


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """Line of the deepest YAML node the error location reaches (1-based)."""
    if node is None:
        return None
    for item in loc:
        child = _child(node, item)
        if child is not None:
            node = child
    return int(node.start_mark.line) + 1


def _child(node: yaml.Node, item: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(item):
                return value  # type: ignore[no-any-return]
    elif isinstance(node, yaml.SequenceNode) and isinstance(item, int) and item < len(node.value):
        return node.value[item]  # type: ignore[no-any-return]
    return None
