"""Suppression list on SQLite and PostgreSQL: opt-out, opt-in, batch checks, paging."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from herald.domain.channels import Channel
from herald.domain.suppression import SuppressionReason, SuppressionScope
from herald.errors import ValidationError
from herald.services.suppression import (
    find_suppressed,
    is_suppressed,
    list_suppressions,
    opt_in,
    suppress,
    unsuppress,
)
from herald.store.database import create_session_factory
from herald.testing import FakeClock

KEYWORD = SuppressionReason.KEYWORD


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with create_session_factory(engine)() as session:
        yield session


def test_an_opt_out_on_one_channel_blocks_every_channel(session: Session) -> None:
    clock = FakeClock()
    result = suppress(
        session, "+1 202 555 0101", reason=KEYWORD, clock=clock, channel=Channel.SMS, detail="STOP"
    )
    session.commit()
    assert result.created
    entry = result.entry
    assert (entry.address, entry.scope, entry.channel) == ("+12025550101", "all", Channel.SMS)
    assert entry.created_at == clock.now()
    for channel in Channel:
        assert is_suppressed(session, "+12025550101", channel)
    assert not is_suppressed(session, "+12025550102", Channel.SMS)


def test_a_second_opt_out_keeps_the_first_entry(session: Session) -> None:
    clock = FakeClock()
    first = suppress(session, "ana@example.com", reason=KEYWORD, clock=clock, source_campaign_id=7)
    clock.advance(timedelta(days=1))
    again = suppress(session, "ANA@example.com", reason=SuppressionReason.MANUAL, clock=clock)
    assert not again.created
    assert again.entry == first.entry


def test_a_channel_scoped_entry_blocks_only_that_channel(session: Session) -> None:
    suppress(
        session,
        "+34600111222",
        reason=SuppressionReason.PROVIDER_OPT_OUT,
        scope=SuppressionScope.WHATSAPP,
        detail="131050",
        clock=FakeClock(),
    )
    assert is_suppressed(session, "+34600111222", Channel.WHATSAPP)
    assert not is_suppressed(session, "+34600111222", Channel.SMS)


def test_find_suppressed_checks_a_large_batch_in_one_call(session: Session) -> None:
    clock = FakeClock()
    phones = [f"+1202555{n:04d}" for n in range(1200)]
    for phone in phones[::100]:
        suppress(session, phone, reason=KEYWORD, clock=clock)
    suppress(session, "Mixed@Example.com", reason=KEYWORD, clock=clock)
    batch = [*phones, "Mixed@EXAMPLE.com", "other@example.com"]
    assert find_suppressed(session, batch, Channel.SMS) == {*phones[::100], "Mixed@EXAMPLE.com"}
    assert find_suppressed(session, [], Channel.SMS) == set()


def test_start_lifts_only_what_the_contact_caused(session: Session) -> None:
    clock = FakeClock()
    suppress(session, "+12025550101", reason=KEYWORD, clock=clock)
    suppress(session, "+12025550102", reason=SuppressionReason.MANUAL, clock=clock)
    suppress(session, "+12025550103", reason=KEYWORD, scope=SuppressionScope.VOICE, clock=clock)
    assert opt_in(session, "+12025550101", Channel.SMS) == 1
    assert not is_suppressed(session, "+12025550101", Channel.VOICE)
    assert opt_in(session, "+12025550102", Channel.SMS) == 0
    assert is_suppressed(session, "+12025550102", Channel.SMS)
    # A voice-only entry is not lifted by a START written on WhatsApp.
    assert opt_in(session, "+12025550103", Channel.WHATSAPP) == 0
    assert is_suppressed(session, "+12025550103", Channel.VOICE)


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.VOICE])
def test_channels_without_opt_in_refuse_it(session: Session, channel: Channel) -> None:
    suppress(session, "bob@example.com", reason=KEYWORD, clock=FakeClock())
    with pytest.raises(ValidationError) as caught:
        opt_in(session, "bob@example.com", channel)
    assert caught.value.code == "opt_in_not_allowed"
    assert is_suppressed(session, "bob@example.com", Channel.EMAIL)


def test_an_operator_can_remove_any_entry(session: Session) -> None:
    clock = FakeClock()
    suppress(session, "+12025550101", reason=SuppressionReason.HARD_BOUNCE, clock=clock)
    suppress(session, "+12025550101", reason=KEYWORD, scope=SuppressionScope.SMS, clock=clock)
    assert unsuppress(session, "+12025550101", scope=SuppressionScope.SMS) == 1
    assert is_suppressed(session, "+12025550101", Channel.SMS)
    assert unsuppress(session, "+1 (202) 555-0101") == 1
    assert not is_suppressed(session, "+12025550101", Channel.SMS)


def test_listing_pages_and_filters(session: Session) -> None:
    clock = FakeClock()
    for n in range(5):
        suppress(session, f"user{n}@example.com", reason=KEYWORD, clock=clock)
    suppress(session, "under_score@example.com", reason=SuppressionReason.IMPORT, clock=clock)
    first = list_suppressions(session, limit=4)
    assert len(first.items) == 4 and first.next_after_id == first.items[-1].id
    rest = list_suppressions(session, limit=4, after_id=first.next_after_id)
    assert len(rest.items) == 2 and rest.next_after_id is None
    imported = list_suppressions(session, reason=SuppressionReason.IMPORT)
    assert [e.address for e in imported.items] == ["under_score@example.com"]
    # LIKE wildcards in the search text are literal.
    assert [e.address for e in list_suppressions(session, search="_").items] == [
        "under_score@example.com"
    ]
    assert list_suppressions(session, search="%").items == ()
    assert list_suppressions(session, scope=SuppressionScope.SMS).items == ()
    with pytest.raises(ValidationError, match="limit"):
        list_suppressions(session, limit=0)
