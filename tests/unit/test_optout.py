"""Opt-out / opt-in detection: keywords per channel, payloads, keypresses, email replies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.channels import Channel
from herald.domain.optout import (
    MULTILINGUAL_OPT_OUT,
    SMS_STANDARD_OPT_OUT,
    DetectionSource,
    MatchMode,
    OptIntent,
    OptOutPolicy,
    compact_all,
    detect,
    email_reply_top,
)

PHONE_CHANNELS = [Channel.SMS, Channel.WHATSAPP]
ALL_OPT_OUT = SMS_STANDARD_OPT_OUT + MULTILINGUAL_OPT_OUT
# Ordinary words that cannot join with a keyword into another keyword.
FILLER = ["please", "sending", "me", "the", "wrong", "date", "tomorrow", "thanks", "why"]
FILLER += ["did", "you", "text", "my", "phone", "is", "broken", "at", "noon", "hola"]


@pytest.mark.parametrize("channel", PHONE_CHANNELS)
@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", " Stop. ", "STOP!!!", "StopAll", "stop all", "Opt-Out", "opt out",
     "OPTOUT", "Arrêt", "ARRET", "arrêt !", "¡Baja!", "dar de baja", "Descadastrar",
     "Stopp", "Désinscrire", "disiscrivi", "unsubscribe\n", "Ｓｔｏｐ", "STOP 🛑"],
)  # fmt: skip
def test_keywords_opt_out_on_phone_channels(channel: Channel, text: str) -> None:
    detection = detect(text, channel)
    assert detection.intent is OptIntent.OPT_OUT
    assert detection.source is DetectionSource.KEYWORD


@pytest.mark.parametrize(
    "text",
    ["stop sending me the wrong date", "Please stop", "no", "NO", "basta ya", "yes",
     "I will be there, end of story", "", "   ", "stop stop", "can you cancel my appointment"],
)  # fmt: skip
def test_sentences_and_answers_are_not_opt_outs(text: str) -> None:
    assert detect(text, Channel.SMS).intent is OptIntent.NONE


def test_lenient_mode_accepts_a_keyword_at_the_start() -> None:
    lenient = OptOutPolicy(mode=MatchMode.FIRST_WORDS)
    assert detect("stop sending me the wrong date", Channel.SMS, policy=lenient).is_opt_out
    assert detect("Opt out of this please", Channel.SMS, policy=lenient).is_opt_out
    assert not detect("please stop", Channel.SMS, policy=lenient).is_opt_out
    assert not detect("start over please", Channel.SMS, policy=lenient).is_opt_in


@pytest.mark.parametrize("channel", PHONE_CHANNELS)
@pytest.mark.parametrize("text", ["START", "start.", "Unstop"])
def test_start_and_unstop_opt_in_on_phone_channels(channel: Channel, text: str) -> None:
    assert detect(text, channel).intent is OptIntent.OPT_IN


def test_yes_is_an_opt_in_only_for_a_suppressed_sms_address() -> None:
    assert detect("YES", Channel.SMS).intent is OptIntent.NONE
    assert detect("Yes!", Channel.SMS, is_suppressed=True).intent is OptIntent.OPT_IN
    assert detect("YES", Channel.WHATSAPP, is_suppressed=True).intent is OptIntent.NONE


def test_voice_and_email_have_no_keyword_opt_in() -> None:
    assert detect("START", Channel.EMAIL, is_suppressed=True).intent is OptIntent.NONE
    assert detect("START", Channel.VOICE, is_suppressed=True).intent is OptIntent.NONE


def test_whatsapp_payloads_are_configurable() -> None:
    assert detect("Stop promotions", Channel.WHATSAPP, payload="OPT_OUT").is_opt_out
    assert detect("Resume", Channel.WHATSAPP, payload="opt_in").is_opt_in
    assert not detect("Confirm", Channel.WHATSAPP, payload="CONFIRM").is_opt_out
    custom = OptOutPolicy(whatsapp_opt_out_payloads=compact_all(["NO_MORE_MSGS"]))
    detection = detect("No more", Channel.WHATSAPP, payload="NO_MORE_MSGS", policy=custom)
    assert detection.is_opt_out and detection.source is DetectionSource.PAYLOAD
    assert not detect("x", Channel.WHATSAPP, payload="OPT_OUT", policy=custom).is_opt_out


def test_a_payload_that_means_nothing_falls_back_to_the_text() -> None:
    assert detect("STOP", Channel.WHATSAPP, payload="BUTTON_1").is_opt_out


def test_voice_keypress_opts_out_only_with_the_configured_digit() -> None:
    assert not detect("", Channel.VOICE, payload="9").is_opt_out
    policy = OptOutPolicy(voice_opt_out_digit="9")
    detection = detect("", Channel.VOICE, payload="9", policy=policy)
    assert detection.is_opt_out and detection.source is DetectionSource.KEYPRESS
    assert not detect("", Channel.VOICE, payload="1", policy=policy).is_opt_out
    assert not detect("", Channel.VOICE, payload="99", policy=policy).is_opt_out


def test_voice_digit_must_be_one_key() -> None:
    with pytest.raises(ValueError, match="keypad"):
        OptOutPolicy(voice_opt_out_digit="10")


@pytest.mark.parametrize(
    "body",
    ["Unsubscribe", "unsubscribe\n\n-- \nAna Ruiz\nACME", "Remove me",
     "UNSUBSCRIBE\n\nOn Mon, 6 Jan 2025 at 09:00, Clinic <a@example.com> wrote:\n> Hi",
     "Dar de baja\n\nSent from my iPhone", "unsubscribe\n> quoted\n> more"],
)  # fmt: skip
def test_email_unsubscribe_replies(body: str) -> None:
    assert detect(body, Channel.EMAIL).is_opt_out


def test_email_does_not_treat_appointment_words_as_opt_out() -> None:
    assert not detect("Cancel", Channel.EMAIL).is_opt_out
    assert not detect("END", Channel.EMAIL).is_opt_out
    assert not detect("Please unsubscribe my colleague too, thanks", Channel.EMAIL).is_opt_out


def test_email_reply_top_drops_quote_and_signature() -> None:
    body = "Yes I will come\nThanks\n\nOn Tue, Bob wrote:\n> STOP"
    assert email_reply_top(body) == "Yes I will come\nThanks"
    assert not detect(body, Channel.EMAIL).is_opt_out


def _spelling(draw: st.DrawFn, keyword: str) -> str:
    letters = []
    for ch in keyword:
        ch = ch.upper() if draw(st.booleans()) else ch.lower()
        if ch.isalpha() and draw(st.integers(0, 4)) == 0:
            ch += "\u0301"  # a stray combining accent
        letters.append(ch)
    pad = st.text(alphabet=" \t\n\u00a0", max_size=3)
    trailing = draw(st.text(alphabet=".!?,;:…", max_size=3))
    return draw(pad) + "".join(letters) + trailing + draw(pad)


@given(st.data())
def test_any_spelling_of_a_keyword_is_detected(data: st.DataObject) -> None:
    keyword = data.draw(st.sampled_from(ALL_OPT_OUT))
    text = _spelling(data.draw, keyword)
    assert detect(text, Channel.SMS).is_opt_out, text
    assert detect(text, Channel.WHATSAPP).is_opt_out, text


@given(
    keyword=st.sampled_from(ALL_OPT_OUT),
    before=st.lists(st.sampled_from(FILLER), max_size=4),
    after=st.lists(st.sampled_from(FILLER), max_size=4),
)
def test_a_keyword_inside_a_sentence_is_not_detected(
    keyword: str, before: list[str], after: list[str]
) -> None:
    if not before and not after:
        after = ["thanks"]
    sentence = " ".join([*before, keyword.lower(), *after])
    assert detect(sentence, Channel.SMS).intent is OptIntent.NONE, sentence
    assert detect(sentence, Channel.WHATSAPP).intent is OptIntent.NONE, sentence
    lenient = OptOutPolicy(mode=MatchMode.FIRST_WORDS)
    assert detect(sentence, Channel.SMS, policy=lenient).is_opt_out is (not before)
