"""Conversation pages: the filtered list, the thread, hand-off, close/reopen, replies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.domain.channels import IntegrationKind
from tests.admin_pages_support import assert_clean_page
from tests.support.detail_pages import PAGE, ConversationWeb, build_conversation_web
from tests.support.engine import sms_step, template_step

SMS = IntegrationKind.INFOBIP_SMS
CSV = "phone,name,appointment_date\n+12025550121,Ana,2025-03-10\n+12025550122,Bo,2025-03-11\n"
STRANGER = "+15550000009"


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[ConversationWeb]:
    yield from build_conversation_web(database_url, tmp_path)


def _setup(web: ConversationWeb) -> int:
    """A campaign texting Ana and Bo (Ana answers), and a stranger writing in."""
    harness = web.harness
    campaign = harness.launch_campaign(
        CSV, {"primary": sms_step("Hi {{name}}")}, name="Flu shots", extra_tags=("autumn",)
    )
    harness.settle()
    harness.write("+12025550121", "Can I come on Friday instead?", kind=SMS, recipient="Herald")
    harness.write(STRANGER, "who is this?", kind=SMS, recipient="Herald")
    harness.settle()
    return campaign


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/conversations/(\d+)"', html)]


def _id_of(web: ConversationWeb, address: str) -> int:
    return int(web.harness.conversation_of(address).conversation.id)


def test_the_pages_need_a_signed_in_user(web: ConversationWeb) -> None:
    _setup(web)
    anonymous = web.anonymous()
    ana = _id_of(web, "+12025550121")
    for path in ("/conversations", f"/conversations/{ana}"):
        page = anonymous.get(path, headers=PAGE, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert anonymous.get(path).status_code == 401


def test_the_list_shows_every_conversation_newest_first(web: ConversationWeb) -> None:
    _setup(web)
    response = web.client.get("/conversations", headers=PAGE)
    assert response.status_code == 200
    html = response.text
    assert len(_ids(html)) == 3
    assert "Hi Bo" in html  # the preview: the last message of Bo's thread
    assert 'href="/campaigns/1">Flu shots</a>' in html
    assert ">flu-shots</span>" in html and ">autumn</span>" in html


@pytest.mark.parametrize(
    ("query", "addresses"),
    [
        ({"tag": "flu-shots"}, ["+12025550121", "+12025550122"]),
        ({"tag": "autumn"}, ["+12025550121", "+12025550122"]),
        ({"tag": "winter"}, []),
        ({"campaign_id": "1"}, ["+12025550121", "+12025550122"]),
        ({"channel": "sms", "q": "friday"}, ["+12025550121"]),
        ({"status": "closed"}, []),
        ({"channel": "whatsapp"}, []),
        ({"q": STRANGER}, [STRANGER]),
    ],
)
def test_list_filters(web: ConversationWeb, query: dict[str, str], addresses: list[str]) -> None:
    _setup(web)
    response = web.client.get("/conversations", params=query, headers=PAGE)
    assert response.status_code == 200
    assert sorted(_ids(response.text)) == sorted(_id_of(web, a) for a in addresses)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"status": "archived"},
            "Status &#39;archived&#39; is not one of open, handed_off, closed",
        ),
        ({"channel": "fax"}, "Channel &#39;fax&#39; is not one of whatsapp"),
        ({"tag": "Needs Callback"}, "needs-callback"),
        ({"campaign_id": "one"}, "Campaign_id must be a whole number"),
        ({"cursor": "not-a-cursor"}, "Cursor is not one Herald issued"),
        ({"limit": "1000"}, "Limit must be 1 to 200"),
    ],
)
def test_bad_filters_are_named(web: ConversationWeb, query: dict[str, str], message: str) -> None:
    _setup(web)
    response = web.client.get("/conversations", params=query, headers=PAGE)
    assert response.status_code == 422
    assert message in response.text


def test_the_list_pages_with_a_cursor(web: ConversationWeb) -> None:
    _setup(web)
    everything = _ids(web.client.get("/conversations", headers=PAGE).text)
    seen: list[int] = []
    path: str | None = "/conversations?limit=1"
    while path is not None:
        html = web.client.get(path, headers=PAGE).text
        seen += _ids(html)
        following = re.search(r'href="([^"]+)" rel="next"', html)
        path = following.group(1).replace("&amp;", "&") if following else None
    assert seen == everything


def test_the_thread_shows_the_campaign_the_person_and_the_agent(web: ConversationWeb) -> None:
    _setup(web)
    ana = _id_of(web, "+12025550121")
    with web.harness.herald.sessions() as session:
        assert web.harness.conversations.view(session, ana).unread_count == 1
    html = web.client.get(f"/conversations/{ana}", headers=PAGE).text
    assert "Hi Ana" in html and "Can I come on Friday instead?" in html
    assert "<strong>Campaign (primary)</strong>" in html
    assert "<strong>Contact</strong>" in html
    assert "<strong>Agent</strong>" in html
    # The built-in agent hands a rescheduling request to the team: the switch is off.
    assert 'role="switch" aria-checked="false"' in html
    with web.harness.herald.sessions() as session:
        assert web.harness.conversations.view(session, ana).unread_count == 0


def test_an_unknown_conversation_is_not_found(web: ConversationWeb) -> None:
    response = web.client.get("/conversations/77", headers=PAGE)
    assert response.status_code == 404


def test_hand_off_switch_and_close_reopen(web: ConversationWeb) -> None:
    _setup(web)
    ana = _id_of(web, "+12025550122")  # Bo: the agent answers his conversation
    assert 'aria-checked="true"' in web.client.get(f"/conversations/{ana}", headers=PAGE).text
    forged = web.client.post(f"/conversations/{ana}/hand-off", headers=PAGE)
    assert forged.status_code == 403

    def status() -> str:
        with web.harness.herald.sessions() as session:
            return web.harness.conversations.view(session, ana).status.value

    off = web.post(f"/conversations/{ana}/hand-off")
    assert (
        off.status_code == 303 and off.headers["location"] == f"/conversations/{ana}?done=hand-off"
    )
    assert status() == "handed_off"
    html = web.client.get(off.headers["location"], headers=PAGE).text
    assert 'aria-checked="false"' in html and "The agent is off" in html
    assert web.post(f"/conversations/{ana}/return").status_code == 303
    assert status() == "open"
    assert web.post(f"/conversations/{ana}/close").status_code == 303
    assert status() == "closed"
    assert "Reopen conversation" in web.client.get(f"/conversations/{ana}", headers=PAGE).text
    assert web.post(f"/conversations/{ana}/reopen").status_code == 303
    assert status() == "open"


def test_a_move_the_status_does_not_allow_is_refused(web: ConversationWeb) -> None:
    _setup(web)
    ana = _id_of(web, "+12025550122")
    refused = web.post(f"/conversations/{ana}/return")
    assert refused.status_code == 409
    assert "Cannot return to agent a conversation that is open." in refused.text
    unknown = web.post(f"/conversations/{ana}/archive")
    assert unknown.status_code == 422
    assert "Unknown action &#39;archive&#39;; use one of hand-off" in unknown.text


def test_a_person_replies_once_and_the_agent_steps_back(web: ConversationWeb) -> None:
    _setup(web)
    ana = _id_of(web, "+12025550121")
    form = {"text": "Friday at 10 works, see you then.", "reference": "web-test-1"}
    first = web.post(f"/conversations/{ana}/reply", form)
    assert first.status_code == 303 and first.headers["location"].endswith("?done=replied")
    again = web.post(f"/conversations/{ana}/reply", form)
    assert again.status_code == 303
    web.harness.settle()
    thread = web.harness.conversation_of("+12025550121")
    assert thread.conversation.status.value == "handed_off"
    replies = [m for m in thread.messages if m.author.value == "user"]
    assert [m.text for m in replies] == ["Friday at 10 works, see you then."]
    assert replies[0].author_name
    html = web.client.get(f"/conversations/{ana}", headers=PAGE).text
    assert "Friday at 10 works" in html and "<strong>Team: " in html


def test_an_empty_reply_is_refused_with_the_draft_kept(web: ConversationWeb) -> None:
    _setup(web)
    ana = _id_of(web, "+12025550121")
    response = web.post(f"/conversations/{ana}/reply", {"text": "   "})
    assert response.status_code == 422
    assert "The reply is empty." in response.text


def test_whatsapp_outside_the_window_is_refused_and_says_why(web: ConversationWeb) -> None:
    harness = web.harness
    harness.launch_campaign(CSV, {"primary": template_step()}, name="Templates")
    harness.settle()
    bo = _id_of(web, "+12025550122")
    response = web.post(f"/conversations/{bo}/reply", {"text": "Hello?"})
    assert response.status_code == 409
    assert "WhatsApp allows free-form replies only within 24 hours" in response.text
    assert "Hello?" in response.text  # the draft is kept in the box


def test_tags_are_added_and_removed_by_people(web: ConversationWeb) -> None:
    _setup(web)
    bo = _id_of(web, "+12025550122")
    forged = web.client.post(f"/conversations/{bo}/tags", data={"tags": "vip"}, headers=PAGE)
    assert forged.status_code == 403
    added = web.post(f"/conversations/{bo}/tags", {"tags": "needs-callback, vip"})
    assert added.status_code == 303 and added.headers["location"].endswith("?done=tagged")
    removed = web.post(f"/conversations/{bo}/tags/remove", {"tag": "autumn"})
    assert removed.status_code == 303
    with web.harness.herald.sessions() as session:
        tags = web.harness.conversations.view(session, bo).tags
    assert tags == ("flu-shots", "needs-callback", "vip")
    html = web.client.get("/conversations?tag=needs-callback", headers=PAGE).text
    assert _ids(html) == [bo]


@pytest.mark.parametrize(
    ("tags", "message"),
    [("Needs Callback", "try &#39;needs-callback&#39;"), (" , ", "Type a tag to add.")],
)
def test_bad_tags_are_refused_with_a_suggestion(
    web: ConversationWeb, tags: str, message: str
) -> None:
    _setup(web)
    bo = _id_of(web, "+12025550122")
    response = web.post(f"/conversations/{bo}/tags", {"tags": tags})
    assert response.status_code == 422
    assert message in response.text


@pytest.mark.parametrize("action", ["hand-off", "return", "close", "reopen", "reply", "tags"])
def test_changes_need_a_signed_in_user(web: ConversationWeb, action: str) -> None:
    _setup(web)
    bo = _id_of(web, "+12025550122")
    response = web.anonymous().post(
        f"/conversations/{bo}/{action}", data={"text": "hi", "tags": "vip"}, headers=PAGE
    )
    assert response.status_code == 401
    with web.harness.herald.sessions() as session:
        view = web.harness.conversations.view(session, bo)
    assert view.status.value == "open" and "vip" not in view.tags


def test_conversation_pages_follow_the_page_rules(web: ConversationWeb) -> None:
    _setup(web)
    ana = _id_of(web, "+12025550121")
    for path in ("/conversations", f"/conversations/{ana}", "/conversations?status=archived"):
        assert_clean_page(web.client.get(path, headers=PAGE).text)
