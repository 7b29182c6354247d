"""Bytes to text for uploaded spreadsheets, deciding the encoding from the first bytes.

Spreadsheets arrive as UTF-8 (with or without the BOM Excel writes), as
UTF-16 with a BOM (Excel's "Unicode text"), or in a legacy single-byte code
page (Windows-1252 / Latin-1). The encoding is decided from a prefix of the
file so the rest can stream:

* a BOM decides outright (UTF-8, UTF-16 LE, UTF-16 BE);
* without a BOM, a prefix whose odd (or even) bytes are mostly NUL is UTF-16;
* otherwise the prefix is tried as UTF-8; if it is not, the file is read as
  Windows-1252 (bytes Windows-1252 leaves undefined map to the same code
  point, as Latin-1 does, so every byte sequence decodes).

UTF-8 is confirmed only as far as it has been read. When bytes that are not
UTF-8 appear later, the remainder is read as Windows-1252. If everything
before was plain ASCII this is exactly what deciding Windows-1252 up front
would have produced; if UTF-8 accented text came before, the file mixes two
encodings and :attr:`TextDecoder.notice` says so, with the byte offset.

Files that are not text at all (NUL bytes, control characters, Excel
workbooks, archives) raise :class:`~herald.errors.UnreadableFileError`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

from herald.errors import UnreadableFileError

PREFIX_BYTES = 64 * 1024
"""How much of the file decides the encoding (and is checked for binary data)."""

MAX_CONTROL_CHARACTER_SHARE = 0.01
MIN_CONTROL_CHARACTERS = 10
"""More control characters than this share of the prefix (and at least this many)
means "not a text file"; a few stray ones in cells are data."""

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls)"),
    (b"%PDF", "a PDF document"),
)
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")


def _windows_1252_table() -> str:
    characters = []
    for byte in range(256):
        try:
            characters.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            characters.append(chr(byte))
    return "".join(characters)


_CP1252_TABLE = _windows_1252_table()


def decode_windows_1252(data: bytes) -> str:
    """Windows-1252 where defined, Latin-1 for the five undefined bytes; never fails."""
    return codecs.charmap_decode(data, "strict", _CP1252_TABLE)[0]


class TextDecoder:
    """Decodes a stream of byte chunks; one instance per file.

    After :meth:`decode` has started yielding, :attr:`encoding` names what was
    decided (``utf-8``, ``utf-8-sig``, ``utf-16-le``, ``utf-16-be`` or
    ``cp1252``) and :attr:`notice` explains a mid-file fallback, if any.
    """

    def __init__(self) -> None:
        self.encoding = ""
        self.notice: str | None = None
        self._bytes_done = 0

    def decode(self, chunks: Iterable[bytes]) -> Iterator[str]:
        iterator = iter(chunks)
        prefix = _read_prefix(iterator)
        if not prefix:
            raise UnreadableFileError("The file is empty.")
        _refuse_known_binary(prefix)
        self.encoding, body = _decide(prefix)
        if self.encoding.startswith("utf-16"):
            texts = self._decode_strict(body, iterator)
        elif self.encoding == "cp1252":
            texts = _decode_cp1252(body, iterator)
        else:
            texts = self._decode_utf8(body, iterator)
        checked = False
        for text in texts:
            if not checked and text:
                # The first piece is the whole prefix: enough to tell text from binary.
                _refuse_binary_text(text)
                checked = True
            elif "\x00" in text:
                # No text format puts NUL in a cell, and databases refuse to store it.
                raise UnreadableFileError(_NOT_TEXT)
            yield text

    def _decode_strict(self, body: bytes, rest: Iterator[bytes]) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)()
        for chunk in _chain(body, rest):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise UnreadableFileError(
                    f"The file starts like {self.encoding.upper()} text but byte "
                    f"{self._bytes_done + exc.start} is not valid {self.encoding.upper()}."
                ) from exc
            self._bytes_done += len(chunk)
            yield text
        try:
            yield decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(
                f"The file ends in the middle of a {self.encoding.upper()} character."
            ) from exc

    def _decode_utf8(self, body: bytes, rest: Iterator[bytes]) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")()
        has_non_ascii = False
        chunks = _chain(body, rest)
        for chunk in chunks:
            pending = decoder.getstate()[0]
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                offset = self._bytes_done - len(pending) + exc.start
                self._fall_back(offset, has_non_ascii)
                yield decode_windows_1252(pending + chunk)
                yield from _decode_cp1252(b"", chunks)
                return
            has_non_ascii = has_non_ascii or not text.isascii()
            self._bytes_done += len(chunk)
            yield text
        pending = decoder.getstate()[0]
        if pending:
            self._fall_back(self._bytes_done - len(pending), has_non_ascii)
            yield decode_windows_1252(pending)

    def _fall_back(self, offset: int, has_non_ascii: bool) -> None:
        if has_non_ascii:
            self.notice = (
                f"The file is not consistently UTF-8: from byte {offset} on it was read as "
                "Windows-1252, before that as UTF-8. Check accented characters and save "
                "the file again as CSV UTF-8."
            )
        self.encoding = "cp1252"


def _read_prefix(chunks: Iterator[bytes]) -> bytes:
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= PREFIX_BYTES:
            break
    return b"".join(parts)


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _decode_cp1252(body: bytes, rest: Iterator[bytes]) -> Iterator[str]:
    for chunk in _chain(body, rest):
        yield decode_windows_1252(chunk)


def _refuse_known_binary(prefix: bytes) -> None:
    for signature, kind in _SIGNATURES:
        if prefix.startswith(signature):
            raise UnreadableFileError(
                f"This is {kind}, not a CSV file. Save it as CSV (UTF-8) and upload that."
            )


def _decide(prefix: bytes) -> tuple[str, bytes]:
    """(encoding, prefix without BOM) from the first bytes of the file."""
    if prefix.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", prefix[len(codecs.BOM_UTF8) :]
    if prefix.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", prefix[2:]
    if prefix.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", prefix[2:]
    sample = prefix[:4096]
    pairs = len(sample) // 2
    if pairs and sample[1::2].count(0) > 0.4 * pairs and sample[0::2].count(0) == 0:
        return "utf-16-le", prefix
    if pairs and sample[0::2].count(0) > 0.4 * pairs and sample[1::2].count(0) == 0:
        return "utf-16-be", prefix
    if b"\x00" in prefix:
        raise UnreadableFileError(_NOT_TEXT)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(prefix, final=False)
    except UnicodeDecodeError:
        return "cp1252", prefix
    return "utf-8", prefix


_NOT_TEXT = (
    "The file does not look like text: it contains binary data. "
    "Upload the spreadsheet saved as CSV (UTF-8)."
)


def _refuse_binary_text(text: str) -> None:
    sample = text[:PREFIX_BYTES]
    if "\x00" in sample:
        raise UnreadableFileError(_NOT_TEXT)
    controls = len(_CONTROL_CHARACTERS.findall(sample))
    if controls >= MIN_CONTROL_CHARACTERS and controls > MAX_CONTROL_CHARACTER_SHARE * len(sample):
        raise UnreadableFileError(_NOT_TEXT)
