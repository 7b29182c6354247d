"""The suppression list page: paging, search, add, remove (admins), CSV import and export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.domain.suppression import SuppressionReason, SuppressionScope
from herald.services.audit import list_audit
from herald.services.suppression import list_suppressions, suppress
from tests.admin_pages_support import PAGE, Pages, assert_clean_page, build_pages, post_form


@pytest.fixture
def pages(database_url: str, tmp_path: Path) -> Iterator[Pages]:
    yield from build_pages(database_url, tmp_path)


def seed(pages: Pages, count: int) -> None:
    with pages.herald.sessions() as session, session.begin():
        for index in range(count):
            suppress(
                session,
                f"person{index:03d}@example.com",
                reason=SuppressionReason.KEYWORD,
                clock=pages.clock,
            )


def addresses(pages: Pages) -> list[str]:
    with pages.herald.sessions() as session:
        return [e.address for e in list_suppressions(session, limit=1000).items]


def test_the_page_and_its_forms_need_a_user_and_the_csrf_token(pages: Pages) -> None:
    for path in ("/suppression", "/suppression/export.csv"):
        response = pages.anonymous.get(path, headers=PAGE, follow_redirects=False)
        assert response.status_code == 303, path
    for url in ("/suppression", "/suppression/remove", "/suppression/import"):
        response = pages.admin.post(url, data={"address": "a@example.com"}, headers=PAGE)
        assert response.status_code == 403, url
        assert "reload the page" in response.text
    assert addresses(pages) == []


def test_pages_of_fifty_with_search_and_filters(pages: Pages) -> None:
    seed(pages, 120)
    first = pages.member.get("/suppression", headers=PAGE)
    assert_clean_page(first.text)
    rows = re.findall(r"person(\d{3})@example.com", first.text)
    assert rows[:1] == ["000"] and len(set(rows)) == 50
    next_url = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_url
    second = pages.member.get(next_url.group(1).replace("&amp;", "&"), headers=PAGE).text
    assert "person050@example.com" in second and "person049@example.com" not in second
    assert "First page" in second
    found = pages.member.get("/suppression?q=person11", headers=PAGE).text
    assert set(re.findall(r"person(\d{3})@", found)) == {f"11{d}" for d in range(10)}
    assert 'rel="next"' not in found
    assert (
        "No matching addresses" in pages.member.get("/suppression?reason=manual", headers=PAGE).text
    )
    assert pages.member.get("/suppression?scope=fax", headers=PAGE).status_code == 422


def test_members_add_addresses_normalised_and_audited(pages: Pages) -> None:
    form = {"address": "  Ana@Example.COM ", "scope": "email", "detail": "asked by phone"}
    response = post_form(pages.member, "/suppression", form)
    assert response.headers["location"] == "/suppression?notice=added"
    again = post_form(pages.member, "/suppression", form)
    assert again.headers["location"] == "/suppression?notice=present"
    with pages.herald.sessions() as session:
        [entry] = list_suppressions(session).items
        assert (entry.address, entry.scope) == ("ana@example.com", SuppressionScope.EMAIL)
        assert entry.reason is SuppressionReason.MANUAL and entry.detail == "asked by phone"
        [audit] = [e for e in list_audit(session).items if e.action.startswith("suppression")]
        assert audit.action == "suppression.added" and audit.actor.label == "max@example.com"
    bad = post_form(pages.member, "/suppression", {"address": "not a phone", "scope": "all"})
    assert bad.status_code == 422 and "not a phone number" in bad.text
    assert 'value="not a phone"' in bad.text


def test_only_admins_remove_addresses(pages: Pages) -> None:
    post_form(pages.member, "/suppression", {"address": "+34 600 111 222", "scope": "all"})
    assert addresses(pages) == ["+34600111222"]
    member_page = pages.member.get("/suppression", headers=PAGE).text
    assert 'action="/suppression/remove"' not in member_page
    form = {"address": "+34600111222", "scope": "all"}
    refused = post_form(pages.member, "/suppression/remove", form)
    assert refused.status_code == 403 and "Only admins" in refused.text
    assert addresses(pages) == ["+34600111222"]
    assert 'action="/suppression/remove"' in pages.admin.get("/suppression", headers=PAGE).text
    removed = post_form(pages.admin, "/suppression/remove", form)
    assert removed.headers["location"] == "/suppression?notice=removed"
    assert addresses(pages) == []
    absent = post_form(pages.admin, "/suppression/remove", form)
    assert absent.headers["location"] == "/suppression?notice=absent"


def test_csv_import_reports_rows_and_export_round_trips(pages: Pages) -> None:
    upload = (
        "address,reason,detail\n"
        "+34600111222,keyword,STOP\n"
        "not-an-address,,\n"
        'bo@example.com,,=HYPERLINK("x")\n'
    )
    response = post_form(
        pages.member,
        "/suppression/import",
        files={"file": ("list.csv", upload.encode(), "text/csv")},
    )
    assert response.status_code == 200
    report = re.search(r'id="import-report">(.*?)</section>', response.text, re.S)
    assert report
    assert re.search(r"<dt>Added</dt><dd>2</dd>", report.group(1))
    assert "line 3" in report.group(1) and "address" in report.group(1)
    exported = pages.member.get("/suppression/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    # Cells a spreadsheet would run as a formula (+, =) carry an apostrophe.
    assert [row["address"] for row in rows] == ["'+34600111222", "bo@example.com"]
    assert rows[1]["detail"] == '\'=HYPERLINK("x")'
    filtered = pages.member.get("/suppression/export.csv?q=example").text
    assert filtered.count("\n") == 2  # header and one row


def test_import_refuses_what_is_not_a_usable_csv(pages: Pages) -> None:
    missing = post_form(pages.member, "/suppression/import", files={"file": ("", b"", "text/csv")})
    assert missing.status_code == 422
    no_column = post_form(
        pages.member,
        "/suppression/import",
        files={"file": ("a.csv", b"email\nx@y.z\n", "text/csv")},
    )
    assert no_column.status_code == 422 and "no &#39;address&#39; column" in no_column.text
    latin = post_form(
        pages.member,
        "/suppression/import",
        files={"file": ("a.csv", "address\njos\xe9@example.com\n".encode("latin-1"), "text/csv")},
    )
    assert latin.status_code == 422 and "not UTF-8" in latin.text
    assert addresses(pages) == []
