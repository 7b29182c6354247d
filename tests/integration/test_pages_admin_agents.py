"""The agents pages: list, create per kind, edit the draft, publish, copy the built-in one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.domain.agents import AgentKind
from herald.services import agents
from herald.services.audit import list_audit
from herald.services.runtime import seed_default_agent
from herald.web.pages.agents import STARTER_CONFIGS
from tests.admin_pages_support import PAGE, Pages, assert_clean_page, build_pages, post_form


@pytest.fixture
def pages(database_url: str, tmp_path: Path) -> Iterator[Pages]:
    for built in build_pages(database_url, tmp_path):
        seed_default_agent(built.herald)
        yield built


def create(pages: Pages, kind: str, name: str, config: dict[str, object]) -> int:
    form = {"kind": kind, "name": name, "description": "", "config": json.dumps(config)}
    response = post_form(pages.member, "/agents", form)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/agents/(\d+)\?notice=created", response.headers["location"])
    assert match
    return int(match.group(1))


def version_ids(pages: Pages, agent_id: int) -> list[tuple[int, int, bool]]:
    with pages.herald.sessions() as session:
        return [(v.id, v.number, v.is_published) for v in agents.list_versions(session, agent_id)]


def test_pages_need_a_signed_in_user_and_the_csrf_token(pages: Pages) -> None:
    for path in ("/agents", "/agents/new", "/agents/1"):
        response = pages.anonymous.get(path, headers=PAGE, follow_redirects=False)
        assert response.status_code == 303, path
    assert pages.member.get("/agents/999", headers=PAGE).status_code == 404
    assert pages.member.get("/agents/new?kind=robot", headers=PAGE).status_code == 422
    form = {"kind": "rules", "name": "x", "config": json.dumps(STARTER_CONFIGS[AgentKind.RULES])}
    response = pages.member.post("/agents", data=form, headers=PAGE)
    assert response.status_code == 403
    response = pages.member.post("/agents/versions/1/publish", headers=PAGE)
    assert response.status_code == 403
    response = pages.member.post("/agents/1/draft", data={"config": "{}"}, headers=PAGE)
    assert response.status_code == 403 and "reload the page" in response.text


@pytest.mark.parametrize("kind", list(AgentKind))
def test_every_starter_configuration_is_valid(pages: Pages, kind: AgentKind) -> None:
    page = pages.member.get(f"/agents/new?kind={kind.value}", headers=PAGE)
    assert page.status_code == 200
    assert_clean_page(page.text)
    form = {"kind": kind.value, "name": "Starter", "config": page_config(page.text)}
    response = post_form(pages.member, "/agents", form)
    # A webhook agent's answer is the page showing its new secret; others redirect.
    assert response.status_code == (200 if kind is AgentKind.WEBHOOK else 303)
    with pages.herald.sessions() as session:
        agent = agents.find_agent_by_name(session, "Starter")
        assert agent is not None and agent.kind is kind
    assert version_ids(pages, agent.id)[0][1:] == (1, False)


def page_config(html: str) -> str:
    found = re.search(r'<textarea id="agent-config"[^>]*>(.*?)</textarea>', html, re.S)
    assert found
    return found.group(1).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")


def test_list_shows_the_built_in_agent_and_new_ones(pages: Pages) -> None:
    create(pages, "rules", "Front desk", STARTER_CONFIGS[AgentKind.RULES])
    html = pages.member.get("/agents", headers=PAGE).text
    assert_clean_page(html)
    assert "Herald default" in html and "Built in" in html
    assert "Front desk" in html and 'data-status="draft"' in html


def test_draft_edit_publish_then_a_new_draft(pages: Pages) -> None:
    agent_id = create(pages, "rules", "Front desk", STARTER_CONFIGS[AgentKind.RULES])
    page = f"/agents/{agent_id}"
    changed = json.loads(json.dumps(STARTER_CONFIGS[AgentKind.RULES]))
    changed["fallback"]["reply"] = "Someone will call you back."
    response = post_form(pages.member, f"{page}/draft", {"config": json.dumps(changed)}, page=page)
    assert response.headers["location"] == f"{page}?notice=saved&version=1"
    [(v1, _, published)] = version_ids(pages, agent_id)
    assert not published
    response = post_form(pages.member, f"/agents/versions/{v1}/publish", page=page)
    assert response.headers["location"] == f"{page}?notice=published&version=1"
    html = pages.member.get(response.headers["location"], headers=PAGE).text
    assert_clean_page(html)
    assert "Version published" in html and "Someone will call you back." in html
    assert "Start draft v2" in html
    post_form(pages.member, f"{page}/draft", {"config": json.dumps(changed)}, page=page)
    assert [(n, p) for _, n, p in version_ids(pages, agent_id)] == [(1, True), (2, False)]
    post_form(pages.member, f"/agents/versions/{v1}/publish", page=page)  # again: no change
    with pages.herald.sessions() as session:
        actions = [(e.action, e.details.get("version")) for e in list_audit(session).items]
    assert actions[:4] == [
        ("agent.draft_saved", 2),
        ("agent.version_published", 1),
        ("agent.draft_saved", 1),
        ("agent.created", None),
    ]


def test_bad_configurations_name_the_problem_and_keep_the_text(pages: Pages) -> None:
    agent_id = create(pages, "rules", "Front desk", STARTER_CONFIGS[AgentKind.RULES])
    page = f"/agents/{agent_id}"
    broken = '{"intents": [}'
    response = post_form(pages.member, f"{page}/draft", {"config": broken}, page=page)
    assert response.status_code == 422
    assert "not valid JSON" in response.text and "line 1" in response.text
    assert "{&#34;intents&#34;: [}" in response.text
    invalid = {"intents": [{"name": "Bad Name", "reply": "hi"}]}
    response = post_form(pages.member, f"{page}/draft", {"config": json.dumps(invalid)}, page=page)
    assert response.status_code == 422 and "intents[0].name" in response.text
    response = post_form(
        pages.member, "/agents", {"kind": "llm", "name": "Bot", "config": '{"base_url": "x"}'}
    )
    assert response.status_code == 422 and "base_url" in response.text
    assert 'value="Bot"' in response.text
    duplicate = {"kind": "rules", "name": "front DESK", "config": json.dumps(invalid)}
    response = post_form(pages.member, "/agents", duplicate | {"config": broken})
    assert response.status_code == 422
    starter = json.dumps(STARTER_CONFIGS[AgentKind.RULES])
    response = post_form(pages.member, "/agents", duplicate | {"config": starter})
    assert response.status_code == 409 and "already exists" in response.text
    response = post_form(pages.member, "/agents", {"kind": "", "name": "x", "config": starter})
    assert response.status_code == 422 and "Choose the kind" in response.text


def test_the_built_in_agent_is_read_only_and_can_be_copied(pages: Pages) -> None:
    with pages.herald.sessions() as session:
        builtin = next(a for a in agents.list_agents(session) if a.is_builtin)
    html = pages.member.get(f"/agents/{builtin.id}", headers=PAGE).text
    assert "built in and maintained by Herald" in html and 'action="/agents/' not in html
    response = post_form(pages.member, f"/agents/{builtin.id}/draft", {"config": "{}"})
    assert response.status_code == 409
    copy = pages.member.get(f"/agents/new?copy={builtin.id}", headers=PAGE).text
    assert 'value="Herald default (copy)"' in copy and "opt_out" in copy


def test_a_webhook_secret_is_shown_once_and_kept_by_later_drafts(pages: Pages) -> None:
    form = {"kind": "webhook", "name": "Bot", "config": json.dumps({"url": "https://b.example/h"})}
    response = post_form(pages.member, "/agents", form)
    assert response.status_code == 200
    secret = re.search(r'id="webhook-secret">([^<]+)<', response.text)
    assert secret and len(secret.group(1)) >= 16
    with pages.herald.sessions() as session:
        agent = agents.find_agent_by_name(session, "Bot")
        assert agent is not None
        stored = agents.list_versions(session, agent.id)[0].config["secret"]
    assert stored == secret.group(1)
    page = f"/agents/{agent.id}"
    html = pages.member.get(page, headers=PAGE).text
    assert stored not in html  # the editor and the shown configuration leave it out
    config = {"url": "https://b.example/v2"}
    post_form(pages.member, f"{page}/draft", {"config": json.dumps(config)}, page=page)
    with pages.herald.sessions() as session:
        assert agents.list_versions(session, agent.id)[-1].config["secret"] == stored
