"""Encodings, BOMs, delimiters and line ends of real spreadsheets; unreadable files."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.audience.encoding import TextDecoder, decode_windows_1252
from herald.errors import UnreadableFileError

from .helpers import check_bytes

TEXT = "email,phone,name\r\nzoe@example.com,+33612345678,Zoë “Zo” Müller €5\r\n"


def decoded(data: bytes, chunk: int = 1 << 16) -> tuple[str, TextDecoder]:
    decoder = TextDecoder()
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    return "".join(decoder.decode(pieces)), decoder


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        pytest.param(TEXT.encode("utf-8"), "utf-8", id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig", id="utf-8 BOM"),
        pytest.param(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16-le", id="utf-16 LE"),
        pytest.param(codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-be", id="utf-16 BE"),
        pytest.param(TEXT.encode("utf-16-le"), "utf-16-le", id="utf-16 LE without BOM"),
        pytest.param(TEXT.encode("cp1252"), "cp1252", id="cp1252: euro, smart quotes"),
    ],
)
def test_text_comes_through_intact_in_every_encoding(data: bytes, encoding: str) -> None:
    text, decoder = decoded(data)
    assert text == TEXT
    assert decoder.encoding == encoding
    assert decoder.notice is None


def test_latin1_bytes_decode_as_the_same_letters() -> None:
    data = "name\r\nJosé Núñez, Besançon\r\n".encode("latin-1")
    assert decoded(data)[0] == "name\r\nJosé Núñez, Besançon\r\n"


def test_bytes_undefined_in_cp1252_still_decode() -> None:
    assert decode_windows_1252(b"\x81\x8d\x8f\x90\x9d\x80") == "\x81\x8d\x8f\x90\x9d€"


def test_late_invalid_utf8_after_ascii_falls_back_without_notice() -> None:
    data = b"email\r\n" + b"a@example.com\r\n" * 10_000 + "Málaga\r\n".encode("cp1252")
    text, decoder = decoded(data, chunk=4096)
    assert text.endswith("Málaga\r\n")
    assert decoder.encoding == "cp1252"
    assert decoder.notice is None


def test_late_invalid_utf8_after_accented_utf8_is_noticed() -> None:
    data = "email\r\nzoë@example.com\r\n".encode() + b"x" * 70_000 + "é\r\n".encode("cp1252")
    text, decoder = decoded(data, chunk=4096)
    assert text.endswith("é\r\n") and "zoë" in text
    assert decoder.notice is not None and "byte 70025" in decoder.notice


def test_a_character_split_across_chunks_is_decoded_whole() -> None:
    data = ("x" * 65_535 + "é\r\n").encode()
    assert decoded(data, chunk=65_536)[0] == "x" * 65_535 + "é\r\n"


@given(st.text(min_size=1, max_size=300), st.integers(1, 64), st.sampled_from(["utf-8", "utf-16"]))
def test_chunk_boundaries_do_not_change_the_text(text: str, chunk: int, encoding: str) -> None:
    text = "h\r\n" + text.replace("\x00", "")
    data = text.encode(encoding)
    try:
        whole = decoded(data)[0]
    except UnreadableFileError:
        return  # control characters: refused whatever the chunking, checked below
    assert decoded(data, chunk)[0] == whole


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"PK\x03\x04" + bytes(100), "Excel workbook", id="xlsx"),
        pytest.param(b"\xd0\xcf\x11\xe0" + bytes(100), "Excel 97-2003", id="xls"),
        pytest.param(bytes(range(256)) * 16, "binary data", id="binary garbage"),
        pytest.param(b"\x01\x02\x03\x04\x05\x06 abc" * 50, "binary data", id="control characters"),
        pytest.param(
            b"email\r\n" + b"a@example.com\r\n" * 6000 + b"\x00\r\n", "binary data", id="late NUL"
        ),
        pytest.param(codecs.BOM_UTF16_LE + b"a\x00\x00\xdc", "not valid UTF-16", id="bad UTF-16"),
        pytest.param(codecs.BOM_UTF16_LE + b"a\x00b", "middle of a UTF-16", id="odd UTF-16"),
        pytest.param(b"\r\n\r\n  \r\n", "no rows", id="only blank lines"),
    ],
)
def test_unreadable_files_get_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFileError, match=message) as caught:
        check_bytes(data)
    assert caught.value.code == "unreadable_file"


def test_random_bytes_are_unreadable() -> None:
    garbage = bytes((i * 7919 + 13) % 256 for i in range(20_000))
    with pytest.raises(UnreadableFileError):
        check_bytes(garbage)


def test_bom_semicolons_and_crlf_like_excel() -> None:
    data = codecs.BOM_UTF8 + "E-mail;Téléphone\r\nzoe@example.com;+33 6 12 34 56 78\r\n".encode()
    check, outcomes = check_bytes(data)
    assert (check.reader.encoding, check.reader.delimiter) == ("utf-8-sig", ";")
    assert check.mapping.header == ("E-mail", "Téléphone")
    assert [(o.email, o.phone) for o in outcomes] == [("zoe@example.com", "+33612345678")]


def test_excel_unicode_text_is_utf16_with_tabs() -> None:
    text = "Email\tMobile\tCity\r\nzoe@example.com\t+33612345678\tBesançon\r\n"
    check, outcomes = check_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert (check.reader.encoding, check.reader.delimiter) == ("utf-16-le", "\t")
    assert outcomes[0].values == {"city": "Besançon"}


def test_tab_delimiter_in_utf8() -> None:
    check, outcomes = check_bytes(b"email\tphone\nzoe@example.com\t+33612345678\n")
    assert check.reader.delimiter == "\t"
    assert outcomes[0].phone == "+33612345678"
