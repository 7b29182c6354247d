"""The conversation services: filters and paging, tags, statuses, replies by people.

Also the channel rules of replies: email threading, the WhatsApp 24-hour
window, voice conversations that are never answered by a call.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from herald.channels.base import EmailContent, SendAccepted
from herald.domain.channels import IntegrationKind
from herald.domain.suppression import SuppressionReason
from herald.errors import ConflictError, IllegalTransitionError, ValidationError
from herald.services.conversation_replies import send_user_reply
from herald.services.conversations import ConversationView
from herald.services.suppression import suppress
from tests.support.conversations import TWILIO, ConversationHarness
from tests.support.engine import sms_step

WA = IntegrationKind.WHATSAPP
SMS = IntegrationKind.INFOBIP_SMS
EMAIL = IntegrationKind.EMAIL_SMTP
VOICE = IntegrationKind.TWILIO_VOICE
ALEX = "+12025550101"


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[ConversationHarness]:
    harness = ConversationHarness.create(database_url, tmp_path)
    yield harness
    harness.close()


def test_filters_and_cursor_paging(harness: ConversationHarness) -> None:
    csv = "phone,name\n+12025550121,Ana\n+12025550122,Bo\n"
    campaign = harness.launch_campaign(csv, {"primary": sms_step("Hi {{name}}")}, name="Flu")
    harness.settle()
    for number in ("+15550000001", "+15550000002", "+15550000003"):
        harness.clock.advance(timedelta(minutes=1))
        harness.write(number, f"hello from {number[-1]}")
    harness.clock.advance(timedelta(minutes=1))
    harness.write("+15550000004", "quick question?", kind=SMS, recipient="Herald")
    harness.settle()
    service = harness.conversations
    with harness.herald.sessions() as session:
        assert _addresses(service.list(session, campaign_id=campaign).items) == [
            "+12025550122",
            "+12025550121",
        ]
        assert _addresses(service.list(session, tag="flu").items) == [
            "+12025550122",
            "+12025550121",
        ]
        assert _addresses(service.list(session, channel="sms", status="handed_off").items) == [
            "+15550000004"
        ]
        assert _addresses(service.list(session, text="FROM 2").items) == ["+15550000002"]
        assert _addresses(service.list(session, text="hi bo").items) == ["+12025550122"]
        assert service.list(session, text="100%").items == ()

        seen: list[str] = []
        cursor = None
        while True:
            page = service.list(session, limit=2, cursor=cursor)
            seen += _addresses(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        everything = _addresses(service.list(session).items)
        assert seen == everything and len(seen) == 6 and everything[0] == "+15550000004"

        with pytest.raises(ValidationError) as bad_status:
            service.list(session, status="archived")
        assert bad_status.value.field == "status"
        with pytest.raises(ValidationError) as bad_cursor:
            service.list(session, cursor="not-a-cursor")
        assert bad_cursor.value.code == "invalid_cursor"
        with pytest.raises(ValidationError):
            service.list(session, limit=0)


def _addresses(items: tuple[ConversationView, ...]) -> list[str]:
    return [item.address for item in items]


def test_users_tag_close_reopen_and_read(harness: ConversationHarness) -> None:
    harness.write(ALEX, "Hello")
    harness.settle()
    service = harness.conversations
    with harness.herald.sessions() as session:
        view = harness.conversation_of(ALEX).conversation
        assert view.unread_count == 1 and view.preview is None
        tagged = service.add_tags(session, view.id, ["vip", "needs_callback", "vip"])
        assert tagged.tags == ("needs_callback", "vip")  # added together: alphabetical
        with pytest.raises(ValidationError) as invalid:
            service.add_tags(session, view.id, ["Needs Callback"])
        assert invalid.value.field == "tags[0]" and "'needs-callback'" in invalid.value.message
        assert service.remove_tags(session, view.id, ["vip", "absent"]).tags == ("needs_callback",)
        assert [c.id for c in service.list(session, tag="needs_callback").items] == [view.id]
        assert service.mark_read(session, view.id).unread_count == 0
        assert service.close(session, view.id).status.value == "closed"
        with pytest.raises(IllegalTransitionError):
            service.return_to_agent(session, view.id)
    sent = len(harness.channels[WA].sent)
    harness.write(ALEX, "Hi again")  # a closed conversation reopens and is answered
    harness.settle()
    view = harness.conversation_of(ALEX).conversation
    assert view.status.value == "open" and len(harness.channels[WA].sent) == sent + 1
    with harness.herald.sessions() as session:
        assert service.hand_off(session, view.id, reason="VIP").hand_off_reason == "VIP"
        assert service.list(session, status="handed_off").items[0].preview is not None


def test_a_user_reply_takes_over_and_goes_out_once(harness: ConversationHarness) -> None:
    harness.write(ALEX, "What time do you open?")
    harness.settle()
    view = harness.conversation_of(ALEX).conversation
    assert view.status.value == "handed_off"  # the default agent hands questions off
    with harness.herald.sessions() as session:
        posted = send_user_reply(
            session,
            view.id,
            "  We open at 8.  ",
            clock=harness.clock,
            author_name="Dana",
            reference="ui-1",
        )
        again = send_user_reply(
            session, view.id, "We open at 8.", clock=harness.clock, reference="ui-1"
        )
    assert posted.reply is not None and again.reply == posted.reply
    assert (posted.reply.author.value, posted.reply.author_name) == ("user", "Dana")
    harness.settle()
    harness.settle()
    assert harness.texts(WA, ALEX)[-1] == "We open at 8."
    assert harness.texts(WA, ALEX).count("We open at 8.") == 1
    assert harness.conversation_of(ALEX).messages[-1].status == "accepted"

    harness.clock.advance(timedelta(hours=25))
    with harness.herald.sessions() as session:
        with pytest.raises(ConflictError) as closed:
            send_user_reply(session, view.id, "Still there?", clock=harness.clock)
        assert closed.value.code == "whatsapp_window_closed"
        suppress(
            session,
            ALEX,
            reason=SuppressionReason.MANUAL,
            clock=harness.clock,
            channel=None,
        )
        session.commit()
        harness.write(ALEX, "ok")
        harness.settle()
        with pytest.raises(ConflictError) as suppressed:
            send_user_reply(session, view.id, "Bye", clock=harness.clock)
        assert suppressed.value.code == "address_suppressed"


def test_email_replies_are_threaded_under_the_person_s_message(
    harness: ConversationHarness,
) -> None:
    harness.script(EMAIL, "alex@example.com", SendAccepted("<c1.abc@mail.example.test>"))
    journey = {
        "primary": {
            "integration": {"name": "clinic-email", "kind": "email_smtp"},
            "content": {"type": "email", "subject": "Your visit", "text": "See you Monday."},
        }
    }
    harness.launch_campaign("email,name\nAlex@Example.com,Alex\n", journey, name="Visits")
    harness.settle()
    harness.write(
        "alex@example.com",
        "Yes, confirmed.",
        kind=EMAIL,
        recipient="reply@inbound.example.test",
        provider_message_id="<r1@mail.example.org>",
        in_reply_to=("<c1.abc@mail.example.test>",),
        subject="Re: Your visit",
    )
    harness.settle()
    answer = harness.channels[EMAIL].sent[-1]
    assert answer.to == "alex@example.com" and isinstance(answer.content, EmailContent)
    assert answer.content.subject == "Re: Your visit"
    assert answer.content.in_reply_to == "<r1@mail.example.org>"
    assert answer.content.references == ("<c1.abc@mail.example.test>",)
    view = harness.conversation_of("alex@example.com").conversation
    assert view.tags == ("visits", "confirmed")


def test_voice_messages_are_recorded_and_never_answered_by_a_call(
    harness: ConversationHarness,
) -> None:
    harness.write("+15550000009", "2", kind=VOICE, recipient=TWILIO["caller_id"], payload="2")
    harness.settle()
    assert harness.channels[VOICE].sent == []
    detail = harness.conversation_of("+15550000009")
    reply = detail.messages[-1]
    assert (reply.author.value, reply.status, reply.error_code) == (
        "agent",
        "not_sent",
        "voice_no_reply",
    )
    assert detail.conversation.status.value == "handed_off"
    with harness.herald.sessions() as session:
        with pytest.raises(ConflictError) as refused:
            send_user_reply(session, detail.conversation.id, "Calling you", clock=harness.clock)
        assert refused.value.code == "voice_no_reply"
