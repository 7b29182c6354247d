"""Agent registry on SQLite and PostgreSQL: versions, publishing, picker, built-in default."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from herald.agents.default import DEFAULT_AGENT_CONFIG, DEFAULT_AGENT_NAME
from herald.agents.rules import RulesAgent
from herald.domain.agents import AgentKind
from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.services import agents as registry
from herald.store.database import create_session_factory
from herald.testing import FakeClock
from tests.agents_support import make_context


def rules(reply: str) -> dict[str, Any]:
    return {"intents": [{"name": "hi", "keywords": {"en": ["hi"]}, "reply": reply}]}


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with create_session_factory(engine)() as session:
        yield session


def test_a_new_agent_starts_with_draft_version_1(session: Session) -> None:
    clock = FakeClock()
    agent, version = registry.create_agent(
        session, name="  Front   desk ", kind=AgentKind.RULES, config=rules("Hello"), clock=clock
    )
    session.commit()
    assert agent.name == "Front desk" and agent.kind is AgentKind.RULES and not agent.is_builtin
    assert (version.number, version.is_published, version.created_at) == (1, False, clock.now())
    assert registry.get_version(session, version.id).config == version.config
    assert registry.find_agent_by_name(session, "FRONT DESK") == agent
    assert registry.latest_published_version(session, agent.id) is None


def test_names_are_unique_ignoring_case_and_accents(session: Session) -> None:
    registry.create_agent(
        session, name="Réception", kind=AgentKind.RULES, config=rules("x"), clock=FakeClock()
    )
    with pytest.raises(ConflictError, match="already exists"):
        registry.create_agent(
            session, name="reception", kind=AgentKind.RULES, config=rules("y"), clock=FakeClock()
        )


def test_invalid_config_is_refused_before_anything_is_stored(session: Session) -> None:
    with pytest.raises(ValidationError) as caught:
        registry.create_agent(
            session, name="Bad", kind=AgentKind.RULES, config={"intents": []}, clock=FakeClock()
        )
    assert caught.value.field == "config.intents"
    assert registry.list_agents(session) == []


def test_publishing_freezes_and_new_drafts_take_the_next_number(session: Session) -> None:
    clock = FakeClock()
    agent, v1 = registry.create_agent(
        session, name="Desk", kind=AgentKind.RULES, config=rules("one"), clock=clock
    )
    assert registry.save_draft(session, agent.id, rules("one bis"), clock).id == v1.id
    clock.advance(timedelta(hours=1))
    published = registry.publish_version(session, v1.id, clock)
    assert published.published_at == clock.now()
    assert registry.publish_version(session, v1.id, clock) == published

    with pytest.raises(ConflictError) as caught:
        registry.edit_version(session, v1.id, rules("changed"))
    assert caught.value.code == "version_frozen"

    v2 = registry.save_draft(session, agent.id, rules("two"), clock)
    assert (v2.number, v2.is_published) == (2, False)
    assert registry.save_draft(session, agent.id, rules("two bis"), clock).id == v2.id
    edited = registry.edit_version(session, v2.id, rules("two ter"))
    assert edited.id == v2.id and edited.config["intents"][0]["reply"] == "two ter"
    session.commit()
    versions = registry.list_versions(session, agent.id)
    assert [(v.number, v.is_published) for v in versions] == [(1, True), (2, False)]
    assert versions[0].config["intents"][0]["reply"] == "one bis"
    assert versions[1].config["intents"][0]["reply"] == "two ter"
    latest = registry.latest_published_version(session, agent.id)
    assert latest is not None and latest.id == v1.id


def test_the_picker_lists_each_agent_at_its_latest_published_version(session: Session) -> None:
    clock = FakeClock()
    desk, v1 = registry.create_agent(
        session, name="Desk", kind=AgentKind.RULES, config=rules("1"), clock=clock
    )
    registry.publish_version(session, v1.id, clock)
    v2 = registry.save_draft(session, desk.id, rules("2"), clock)
    registry.publish_version(session, v2.id, clock)
    registry.save_draft(session, desk.id, rules("3"), clock)  # a draft is not offered
    registry.create_agent(
        session, name="Unpublished", kind=AgentKind.RULES, config=rules("x"), clock=clock
    )
    _, bot_v1 = registry.create_agent(
        session,
        name="Bot",
        kind=AgentKind.WEBHOOK,
        config={"url": "http://127.0.0.1:9/bot"},
        clock=clock,
    )
    registry.publish_version(session, bot_v1.id, clock)
    session.commit()
    choices = registry.published_choices(session)
    assert [(c.agent.name, c.version.number) for c in choices] == [("Bot", 1), ("Desk", 2)]


def test_a_webhook_secret_survives_edits_without_one(session: Session) -> None:
    clock = FakeClock()
    agent, v1 = registry.create_agent(
        session,
        name="Bot",
        kind=AgentKind.WEBHOOK,
        config={"url": "http://127.0.0.1:9/a"},
        clock=clock,
    )
    secret = v1.config["secret"]
    registry.publish_version(session, v1.id, clock)
    v2 = registry.save_draft(session, agent.id, {"url": "http://127.0.0.1:9/b"}, clock)
    assert v2.config["secret"] == secret and v2.config["url"].endswith("/b")


def test_the_default_agent_is_seeded_once_and_cannot_be_edited(session: Session) -> None:
    clock = FakeClock()
    first = registry.ensure_default_agent(session, clock)
    session.commit()
    clock.advance(timedelta(days=1))
    again = registry.ensure_default_agent(session, clock)
    session.commit()
    assert again == first and first.is_published and first.number == 1
    agent = registry.get_agent(session, first.agent_id)
    assert agent.name == DEFAULT_AGENT_NAME and agent.is_builtin and agent.kind is AgentKind.RULES
    assert len(registry.list_agents(session)) == 1
    with pytest.raises(ConflictError) as caught:
        registry.save_draft(session, agent.id, rules("mine"), clock)
    assert caught.value.code == "builtin_agent"
    assert [c.version.id for c in registry.published_choices(session)] == [first.id]


def test_a_changed_shipped_default_is_published_as_a_new_version(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    first = registry.ensure_default_agent(session, clock)
    changed = {**DEFAULT_AGENT_CONFIG, "default_language": "es"}
    monkeypatch.setattr(registry, "DEFAULT_AGENT_CONFIG", changed)
    second = registry.ensure_default_agent(session, clock)
    assert second.number == 2 and second.config["default_language"] == "es"
    assert registry.get_version(session, first.id).config["default_language"] == "en"
    assert registry.ensure_default_agent(session, clock) == second


def test_loading_a_published_version_gives_a_working_agent(session: Session) -> None:
    clock = FakeClock()
    version = registry.ensure_default_agent(session, clock)
    agent = registry.load_agent(session, version.id, clock=clock)
    assert isinstance(agent, RulesAgent)
    decision = asyncio.run(agent.respond(make_context("yes")))
    assert decision.outcome == "confirmed"


def test_drafts_load_only_when_asked(session: Session) -> None:
    clock = FakeClock()
    _, draft = registry.create_agent(
        session, name="Desk", kind=AgentKind.RULES, config=rules("hello"), clock=clock
    )
    with pytest.raises(ConflictError) as caught:
        registry.load_agent(session, draft.id, clock=clock)
    assert caught.value.code == "version_not_published"
    assert isinstance(
        registry.load_agent(session, draft.id, clock=clock, allow_draft=True), RulesAgent
    )


def test_missing_agents_and_versions_are_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError):
        registry.get_agent(session, 404)
    with pytest.raises(NotFoundError):
        registry.get_version(session, 404)
    with pytest.raises(NotFoundError):
        registry.save_draft(session, 404, rules("x"), FakeClock())
