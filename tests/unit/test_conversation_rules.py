"""Conversation statuses, tags, reply text, subjects and paging cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.channels import Channel
from herald.domain.conversations import (
    TRANSITIONS,
    ConversationAction,
    ConversationStatus,
    Cursor,
    address_thread_key,
    clean_reply_text,
    clean_user_tags,
    journey_thread_key,
    next_conversation_status,
    reply_subject,
    status_after_inbound,
)
from herald.errors import IllegalTransitionError, ValidationError

OPEN, HANDED_OFF, CLOSED = (
    ConversationStatus.OPEN,
    ConversationStatus.HANDED_OFF,
    ConversationStatus.CLOSED,
)


@pytest.mark.parametrize("status", list(ConversationStatus))
@pytest.mark.parametrize("action", list(ConversationAction))
def test_every_status_and_action_either_moves_or_is_refused(
    status: ConversationStatus, action: ConversationAction
) -> None:
    if (status, action) in TRANSITIONS:
        assert next_conversation_status(status, action) is TRANSITIONS[(status, action)]
    else:
        with pytest.raises(IllegalTransitionError) as refused:
            next_conversation_status(status, action)
        assert refused.value.field == "status"


@pytest.mark.parametrize(
    ("status", "action", "target"),
    [
        (OPEN, ConversationAction.HAND_OFF, HANDED_OFF),
        (HANDED_OFF, ConversationAction.RETURN_TO_AGENT, OPEN),
        (HANDED_OFF, ConversationAction.CLOSE, CLOSED),
        (CLOSED, ConversationAction.REOPEN, OPEN),
    ],
)
def test_the_documented_moves(
    status: ConversationStatus, action: ConversationAction, target: ConversationStatus
) -> None:
    assert next_conversation_status(status, action) is target


def test_a_message_reopens_only_a_closed_conversation() -> None:
    assert [status_after_inbound(s) for s in (OPEN, HANDED_OFF, CLOSED)] == [
        OPEN,
        HANDED_OFF,
        OPEN,
    ]


def test_user_tags_are_checked_not_rewritten() -> None:
    assert clean_user_tags(["vip", "call_back", "vip"]) == ("vip", "call_back")
    with pytest.raises(ValidationError) as refused:
        clean_user_tags(["ok", "Call Back"])
    assert refused.value.field == "tags[1]" and "'call-back'" in refused.value.message
    with pytest.raises(ValidationError):
        clean_user_tags([])


def test_reply_text_is_trimmed_and_bounded() -> None:
    assert clean_reply_text("  hi  ") == "hi"
    for bad in ("", "   ", "x" * 4097):
        with pytest.raises(ValidationError):
            clean_reply_text(bad)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("Your visit", "Re: Your visit"), ("RE: Your visit", "RE: Your visit"), (None, "Re: Hi")],
)
def test_reply_subjects_say_re_once(subject: str | None, expected: str) -> None:
    assert reply_subject(subject, "Hi") == expected


def test_thread_keys_tell_campaign_and_unknown_threads_apart() -> None:
    assert journey_thread_key(7, Channel.SMS) == "journey:7:sms"
    assert address_thread_key(Channel.SMS, None, "+1202") == "address:sms:0:+1202"
    assert address_thread_key(Channel.SMS, 3, "+1202") != address_thread_key(
        Channel.WHATSAPP, 3, "+1202"
    )


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=2**62),
)
def test_cursors_round_trip(moment: datetime, conversation_id: int) -> None:
    cursor = Cursor(moment, conversation_id)
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("token", ["", "%%%", "bm90IGpzb24", "WyJ4IiwgMV0", "WzEsIDJd"])
def test_foreign_cursors_are_refused(token: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Cursor.decode(token)
    assert refused.value.code == "invalid_cursor"


def test_a_naive_time_in_a_cursor_is_refused() -> None:
    naive = Cursor(datetime(2025, 1, 1), 1).encode()
    with pytest.raises(ValidationError):
        Cursor.decode(naive)
