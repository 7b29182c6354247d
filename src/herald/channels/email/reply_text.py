"""The new text of an email reply, without the message it quotes.

Mail clients put the answer on top and the original below an attribution
line ("On Mon, 3 Jun 2024, Herald <...> wrote:", Outlook's "-----Original
Message-----" or its "From: / Sent:" block) or as ``>``-quoted lines. The
agent should read what the person wrote, not our own message echoed back;
the full text is kept beside it for the conversation view.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Attribution lines in the languages Herald's audiences write in; the "On
# ... wrote:" line is often wrapped over two lines by the client.
_ATTRIBUTION = re.compile(
    r"^\s*(On|El|Le|Am|Em|Il|Op|Den|W dniu)\b.*\b"
    r"(wrote|escribió|a écrit|schrieb|escreveu|ha scritto|schreef|skrev|napisał)\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(On|El|Le|Am|Em|Il|Op|Den|W dniu)\s", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*Original Message\s*-{2,}|-{2,}\s*Mensaje original\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
_HEADER_BLOCK = re.compile(r"^\s*\*?(From|De|Von|Da)\s*:\*?\s", re.IGNORECASE)
_HEADER_FOLLOW = re.compile(r"^\s*\*?(Sent|Date|Enviado|Fecha|Gesendet|Envoyé)\s*:", re.IGNORECASE)
_SIGNATURE = "-- "


def strip_quoted_reply(text: str) -> str:
    """The text above the quoted original; the whole text if nothing is left."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _starts_quote(lines, index) or line == _SIGNATURE:
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    result = "\n".join(kept).strip()
    return result or text.strip()


def _starts_quote(lines: list[str], index: int) -> bool:
    line = lines[index]
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if _ATTRIBUTION.match(line) or _SEPARATOR.match(line):
        return True
    if _ATTRIBUTION_START.match(line) and _ATTRIBUTION.match(f"{line} {following}"):
        return True
    return bool(_HEADER_BLOCK.match(line) and _HEADER_FOLLOW.match(following))


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._quoted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        if tag == "blockquote":
            self._quoted += 1
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        if tag == "blockquote":
            self._quoted = max(0, self._quoted - 1)
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            prefix = "> " if self._quoted else ""
            self.parts.append(prefix + data if prefix and data.strip() else data)


def html_to_text(html: str) -> str:
    """Readable text from an HTML-only email; quoted blocks become ``>`` lines."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [" ".join(line.split()) for line in "".join(extractor.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
