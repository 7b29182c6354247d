"""Reply agents: list, create, edit the draft version, publish.

A version's configuration is edited as JSON, the format docs/agents.md
documents for each kind; the service validates it and names the faulty
field. A webhook agent's secret is never put back into the editor (the
service keeps the stored one when the field is left out); a secret Herald
generates is shown once, on the page that answers the save.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from herald.agents.config import redact_config
from herald.domain.agents import AgentKind
from herald.domain.audit import AuditTarget
from herald.errors import ConflictError, ValidationError
from herald.services import agents
from herald.services.agents import AgentInfo, AgentVersion
from herald.services.audit import record_audit
from herald.web.auth import CurrentActor
from herald.web.deps import HeraldDep
from herald.web.pages.admin_forms import (
    error_status,
    notice_text,
    redirect_with_notice,
    sentence,
)
from herald.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_CONFIG_CHARS = 200_000
NOTICES = {
    "created": "Agent created with a draft version 1. Publish it to offer it to campaigns.",
    "saved": "Draft saved. Publish it when it is ready.",
    "published": "Version published: the campaign builder now offers it.",
}
KIND_HELP = {
    AgentKind.RULES: "Ordered intents matched by keywords or patterns, per language. Offline.",
    AgentKind.LLM: "Any OpenAI-compatible chat endpoint; the API key stays in an "
    "environment variable.",
    AgentKind.WEBHOOK: "Your own bot: Herald POSTs each message to your URL, signed "
    "with HMAC-SHA256.",
}
STARTER_CONFIGS: dict[AgentKind, dict[str, Any]] = {
    AgentKind.RULES: {
        "default_language": "en",
        "intents": [
            {
                "name": "confirm",
                "keywords": {"en": ["yes", "confirm", "see you"]},
                "reply": {"en": "Thanks {{name|there}}, see you!"},
                "actions": {"tags": ["confirmed"], "outcome": "confirmed"},
            }
        ],
        "fallback": {
            "reply": "A colleague will answer you shortly.",
            "actions": {"hand_off": True},
        },
    },
    AgentKind.LLM: {
        "base_url": "https://api.openai.com/v1",
        "model": "gpt-4o-mini",
        "api_key_env": "HERALD_LLM_API_KEY",
        "system_prompt": "You answer for our front desk. Be brief and friendly.",
        "temperature": 0.2,
    },
    AgentKind.WEBHOOK: {"url": "https://bots.example.com/herald", "timeout_seconds": 10},
}

ConfigText = Annotated[str, Form(max_length=MAX_CONFIG_CHARS)]


@dataclass(frozen=True)
class AgentLine:
    agent: AgentInfo
    latest: AgentVersion
    published: AgentVersion | None


@router.get("/agents")
def agents_page(request: Request, herald: HeraldDep) -> Response:
    with herald.read_sessions() as db:
        lines = [_line(db, agent) for agent in agents.list_agents(db)]
    return render(request, "agents/list.html", {"lines": lines})


@router.get("/agents/new")
def new_agent_page(
    request: Request, herald: HeraldDep, kind: str | None = None, copy: int | None = None
) -> Response:
    chosen = _kind(kind) if kind else None
    values = {"name": "", "description": "", "config": ""}
    if copy is not None:
        with herald.read_sessions() as db:
            source = agents.get_agent(db, copy)
            version = agents.latest_published_version(db, copy) or _latest(db, copy)
        chosen = source.kind
        values |= {
            "name": f"{source.name} (copy)",
            "description": source.description,
            "config": _editor_text(version.config),
        }
    elif chosen is not None:
        values["config"] = _pretty(STARTER_CONFIGS[chosen])
    return _new_form(request, chosen, values)


@router.post("/agents")
def create_agent(
    request: Request,
    herald: HeraldDep,
    actor: CurrentActor,
    kind: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    config: ConfigText = "",
) -> Response:
    values = {"name": name, "description": description, "config": config}
    chosen = None
    try:
        chosen = _kind(kind) if kind else None
        if chosen is None:
            raise ValidationError("choose the kind of agent", field="kind")
        with herald.sessions() as db, db.begin():
            info, version = agents.create_agent(
                db,
                name=name,
                kind=chosen,
                config=_parse_config(config),
                clock=herald.clock,
                description=description.strip(),
            )
            details = {"name": info.name, "kind": info.kind.value}
            _audit(db, herald, actor, "agent.created", info.id, details)
    except (ValidationError, ConflictError) as exc:
        return _new_form(request, chosen, values, error=exc)
    if chosen is AgentKind.WEBHOOK and not _parse_config(config).get("secret"):
        return _detail(request, herald, info.id, generated_secret=version.config["secret"])
    return redirect_with_notice(f"/agents/{info.id}", "created")


@router.get("/agents/{agent_id:int}")
def agent_page(
    request: Request,
    herald: HeraldDep,
    agent_id: int,
    version: int | None = None,
    notice: str | None = None,
) -> Response:
    return _detail(request, herald, agent_id, shown_number=version, notice=notice)


@router.post("/agents/{agent_id:int}/draft")
def save_draft(
    request: Request,
    herald: HeraldDep,
    actor: CurrentActor,
    agent_id: int,
    config: ConfigText = "",
) -> Response:
    try:
        parsed = _parse_config(config)
        with herald.sessions() as db, db.begin():
            version = agents.save_draft(db, agent_id, parsed, herald.clock)
            details = {"version": version.number}
            _audit(db, herald, actor, "agent.draft_saved", agent_id, details)
    except (ValidationError, ConflictError) as exc:
        return _detail(request, herald, agent_id, error=exc, editor_text=config)
    # A webhook draft without "secret" keeps the stored one, so no secret is
    # ever generated here: only a new agent's first version gets one.
    return redirect_with_notice(f"/agents/{agent_id}", "saved", version=version.number)


@router.post("/agents/versions/{version_id:int}/publish")
def publish_version(herald: HeraldDep, actor: CurrentActor, version_id: int) -> Response:
    with herald.sessions() as db, db.begin():
        was_published = agents.get_version(db, version_id).is_published
        version = agents.publish_version(db, version_id, herald.clock)
        if not was_published:
            details = {"version": version.number, "version_id": version.id}
            _audit(db, herald, actor, "agent.version_published", version.agent_id, details)
    return redirect_with_notice(f"/agents/{version.agent_id}", "published", version=version.number)


def _audit(
    db: Session,
    herald: HeraldDep,
    actor: CurrentActor,
    action: str,
    agent_id: int,
    details: dict[str, Any],
) -> None:
    record_audit(db, actor, action, AuditTarget.of("agent", agent_id), details, clock=herald.clock)


def _line(db: Session, agent: AgentInfo) -> AgentLine:
    versions = agents.list_versions(db, agent.id)
    published = [v for v in versions if v.is_published]
    return AgentLine(agent, versions[-1], published[-1] if published else None)


def _latest(db: Session, agent_id: int) -> AgentVersion:
    return agents.list_versions(db, agent_id)[-1]


def _kind(kind: str) -> AgentKind:
    try:
        return AgentKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in AgentKind)
        raise ValidationError(
            f"unknown agent kind {kind!r}; use one of {known}", field="kind"
        ) from None


def _parse_config(text: str) -> dict[str, Any]:
    """The configuration typed in the editor; errors say where the JSON breaks."""
    if not text.strip():
        raise ValidationError(
            "the configuration is empty: write it as a JSON object", field="config"
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"the configuration is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}",
            field="config",
        ) from exc
    if not isinstance(value, dict):
        raise ValidationError("the configuration must be a JSON object { ... }", field="config")
    return value


def _pretty(config: dict[str, Any]) -> str:
    return json.dumps(config, indent=2, ensure_ascii=False)


def _editor_text(config: dict[str, Any]) -> str:
    """A configuration to edit: never with the webhook secret (left out, it is kept)."""
    return _pretty({key: value for key, value in config.items() if key != "secret"})


def _new_form(
    request: Request,
    kind: AgentKind | None,
    values: dict[str, str],
    *,
    error: ValidationError | ConflictError | None = None,
) -> Response:
    context = {
        "kind": kind,
        "kinds": list(AgentKind),
        "kind_help": KIND_HELP,
        "values": values,
        "error": sentence(error) if error else None,
        "error_field": error.field if error else None,
    }
    status = error_status(error) if error else 200
    return render(request, "agents/new.html", context, status_code=status)


def _detail(
    request: Request,
    herald: HeraldDep,
    agent_id: int,
    *,
    shown_number: int | None = None,
    notice: str | None = None,
    error: ValidationError | ConflictError | None = None,
    editor_text: str | None = None,
    generated_secret: str | None = None,
) -> Response:
    with herald.read_sessions() as db:
        info = agents.get_agent(db, agent_id)
        versions = agents.list_versions(db, agent_id)
    by_number = {version.number: version for version in versions}
    shown = by_number.get(shown_number or 0, versions[-1])
    latest = versions[-1]
    context = {
        "agent": info,
        "versions": list(reversed(versions)),
        "shown": shown,
        "shown_config": _pretty(redact_config(info.kind, shown.config)),
        "latest": latest,
        "editor_text": editor_text if editor_text is not None else _editor_text(latest.config),
        "kind_help": KIND_HELP,
        "notice": notice_text(notice, NOTICES),
        "error": sentence(error) if error else None,
        "generated_secret": generated_secret,
    }
    status = error_status(error) if error else 200
    return render(request, "agents/detail.html", context, status_code=status)
