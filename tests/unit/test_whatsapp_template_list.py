"""Reading the template list page by page, and applying a template picked in the journey form."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from herald.channels.http import HttpAnswer
from herald.channels.whatsapp.templates import (
    TemplateListError,
    parse_template,
    read_template_list,
)
from herald.web.pages.builder_journey_form import (
    MAX_TEMPLATE_PARAMETERS,
    ParameterForm,
    StepForm,
    apply_template_choice,
    parse_form,
)


def _answer(body: Any, status: int = 200) -> HttpAnswer:
    return HttpAnswer(status, {}, json.dumps(body).encode())


def _page(names: list[str], after: str | None) -> dict[str, Any]:
    data = [{"name": name, "language": "en", "status": "APPROVED"} for name in names]
    page: dict[str, Any] = {"data": data, "paging": {"cursors": {"before": "b"}}}
    if after is not None:
        page["paging"]["cursors"]["after"] = after
        page["paging"]["next"] = "https://graph.example.test/next"
    return page


def test_pages_follow_the_after_cursor_with_our_own_url() -> None:
    pages = {None: _page(["a", "b"], "c1"), "c1": _page(["c"], "c2"), "c2": _page([], None)}
    asked: list[str] = []

    async def fetch(url: str) -> HttpAnswer:
        asked.append(url)
        after = url.partition("after=")[2] or None
        return _answer(pages[after])

    listed = asyncio.run(read_template_list(fetch, "https://graph.test/v21.0/1/message_templates"))
    assert [item.name for item in listed.templates] == ["a", "b", "c"]
    assert (listed.pages, listed.is_complete) == (3, True)
    assert asked[0] == "https://graph.test/v21.0/1/message_templates?limit=100"
    assert asked[1].endswith("?limit=100&after=c1")
    assert all(url.startswith("https://graph.test/") for url in asked)  # never the next URL


def test_an_endless_list_stops_at_the_page_bound() -> None:
    calls = 0

    async def fetch(url: str) -> HttpAnswer:
        nonlocal calls
        calls += 1
        return _answer(_page([f"t{calls}"], f"c{calls}"))

    listed = asyncio.run(read_template_list(fetch, "https://g.test/x", max_pages=3))
    assert (calls, listed.pages, listed.is_complete, len(listed.templates)) == (3, 3, False, 3)
    with pytest.raises(ValueError):
        asyncio.run(read_template_list(fetch, "https://g.test/x", max_pages=0))


def test_an_entry_reads_body_text_placeholders_header_and_category() -> None:
    item = {
        "name": "order_update",
        "language": "es",
        "status": "approved",
        "components": [
            {"type": "HEADER", "format": "image"},
            {"type": "BODY", "text": "Hola {{1}}, pedido {{2}} ({{1}})"},
            {"type": "FOOTER", "text": "STOP"},
        ],
    }
    parsed = parse_template(item)
    assert (parsed.status, parsed.category, parsed.header_format) == (
        "APPROVED",
        "UNKNOWN",
        "IMAGE",
    )
    assert (parsed.body_parameters, parsed.body_text) == (2, "Hola {{1}}, pedido {{2}} ({{1}})")
    bare = parse_template({"name": "hello", "language": "en", "status": "PENDING"})
    assert (bare.body_text, bare.body_parameters, bare.header_format) == ("", 0, None)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"name": "", "language": "en", "status": "APPROVED"}, "'name' is missing"),
        ({"name": "a", "language": "en", "status": 3}, "'status' is missing"),
        ({"name": "a", "language": "en", "status": "X", "components": {}}, "not a list"),
        (
            {
                "name": "a",
                "language": "en",
                "status": "X",
                "components": [{"type": "BODY", "text": 1}],
            },
            "BODY text is not text",
        ),
    ],
)
def test_malformed_entries_are_named(item: dict[str, Any], reason: str) -> None:
    with pytest.raises(TemplateListError, match=reason):
        parse_template(item, "page 2, item 4")


def test_a_picked_template_sets_name_language_and_rows() -> None:
    step = StepForm(integration="wa", wa_name="x", params=[ParameterForm("name", "there")])
    grown = apply_template_choice(step, "appointment_reminder|es|3")
    assert (grown.wa_name, grown.wa_language) == ("appointment_reminder", "es")
    assert grown.params == [ParameterForm("name", "there"), ParameterForm(), ParameterForm()]
    assert apply_template_choice(grown, "hello_world|en_US|0").params == []


@pytest.mark.parametrize("choice", ["", "nameonly", "a||2", "|en|2", "a|en|two", "a|en|-1"])
def test_a_malformed_choice_changes_nothing(choice: str) -> None:
    step = StepForm(wa_name="typed", wa_language="en")
    assert apply_template_choice(step, choice) == step


def test_a_forged_choice_cannot_grow_the_form_without_bound() -> None:
    step = apply_template_choice(StepForm(), "a|en|100000")
    assert len(step.params) == MAX_TEMPLATE_PARAMETERS


def test_the_form_applies_only_a_choice_that_changed() -> None:
    base = {
        "steps": ["primary"],
        "primary.integration": ["wa"],
        "primary.wa_name": ["typed_by_hand"],
        "primary.wa_language": ["en"],
    }
    same = base | {"primary.wa_template": ["a|es|1"], "primary.wa_template_shown": ["a|es|1"]}
    assert parse_form(same).primary.wa_name == "typed_by_hand"
    changed = base | {"primary.wa_template": ["b|es|1"], "primary.wa_template_shown": ["a|es|1"]}
    assert (parse_form(changed).primary.wa_name, parse_form(changed).primary.wa_language) == (
        "b",
        "es",
    )
    cleared = base | {"primary.wa_template": [""], "primary.wa_template_shown": ["a|es|1"]}
    assert parse_form(cleared).primary.wa_name == "typed_by_hand"
