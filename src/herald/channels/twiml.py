"""TwiML documents Herald hands to Twilio: say a text, optionally gather a keypress.

Documents are built with :mod:`xml.etree.ElementTree`, never by string
formatting, so a contact's name such as ``</Say><Dial>+1900…`` stays text.
Characters XML 1.0 cannot carry at all (NUL, most C0 controls, lone
surrogates) are dropped, because escaping cannot represent them and Twilio
would refuse the whole document.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from herald.channels.base import VoiceContent

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters an XML 1.0 document cannot contain.

    Line ends become ``\n``, as any XML parser would read them anyway.
    """
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _say(parent: ET.Element, text: str, language: str) -> None:
    say = ET.SubElement(parent, "Say", {"language": xml_text(language)})
    say.text = xml_text(text)


def _document(root: ET.Element) -> str:
    return XML_DECLARATION + ET.tostring(root, encoding="unicode")


def render_call(content: VoiceContent, *, gather_url: str | None = None) -> str:
    """The TwiML of an outbound call.

    Without a capture: one ``<Say>``. With a :class:`KeypressCapture` and a
    ``gather_url``: a one-digit ``<Gather>`` around the text and the prompt
    (a key pressed while the text plays counts too), posting to
    ``gather_url``, then ``<Hangup/>`` when nothing was pressed.
    """
    root = ET.Element("Response")
    capture = content.capture
    if capture is None or gather_url is None:
        _say(root, content.text, content.language)
        return _document(root)
    gather = ET.SubElement(
        root,
        "Gather",
        {
            "input": "dtmf",
            "numDigits": "1",
            "timeout": str(capture.timeout_seconds),
            "action": xml_text(gather_url),
            "method": "POST",
        },
    )
    _say(gather, content.text, content.language)
    _say(gather, capture.prompt, content.language)
    ET.SubElement(root, "Hangup")
    return _document(root)


def render_reply(text: str, language: str) -> str:
    """The answer to a gather request: say ``text``, then hang up."""
    root = ET.Element("Response")
    _say(root, text, language)
    ET.SubElement(root, "Hangup")
    return _document(root)
