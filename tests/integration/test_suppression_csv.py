"""Suppression CSV import (per-row errors, never clears an entry) and export (injection-safe)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from herald.domain.channels import Channel
from herald.domain.suppression import SuppressionReason, SuppressionScope
from herald.errors import ValidationError
from herald.services.suppression import Suppression, is_suppressed, list_suppressions, suppress
from herald.services.suppression_csv import (
    SuppressionImportReport,
    export_suppressions_csv,
    import_suppressions_csv,
    neutralize_cell,
)
from herald.store.database import create_database_engine, create_session_factory
from herald.store.migrate import upgrade_database
from herald.testing import FakeClock


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with create_session_factory(engine)() as session:
        yield session


def _import(session: Session, text: str, region: str = "US") -> SuppressionImportReport:
    return import_suppressions_csv(
        session, io.StringIO(text, newline=""), clock=FakeClock(), default_region=region
    )


def test_valid_rows_are_kept_and_bad_rows_named(session: Session) -> None:
    text = (
        "Address,Reason,Name\n"
        "+34 600 111 222,keyword,Ana\n"
        "not-a-phone,,Bob\n"
        '"ana@example.com",bogus,"multi\nline"\n'
        "(202) 555-0101,,Cy\n"
        ",,\n"
        "bob@example.com,,\n"
    )
    report = _import(session, text)
    assert (report.rows_read, report.added, report.already_present) == (5, 3, 0)
    assert [str(error) for error in report.errors] == [
        "line 3, column 'address': 'not-a-phone' is not a phone number: "
        "(1) The string supplied did not seem to be a phone number.",
        "line 5, column 'reason': 'bogus' is not one of: keyword, one_click_unsubscribe, "
        "agent_action, hard_bounce, manual, import, provider_opt_out",
    ]
    assert report.ignored_columns == ("name",)
    reasons = {e.address: e.reason for e in list_suppressions(session).items}
    assert reasons == {
        "+34600111222": SuppressionReason.KEYWORD,
        "+12025550101": SuppressionReason.IMPORT,
        "bob@example.com": SuppressionReason.IMPORT,
    }


def test_import_never_replaces_or_clears_an_existing_entry(session: Session) -> None:
    original = suppress(
        session, "+12025550101", reason=SuppressionReason.KEYWORD, clock=FakeClock()
    )
    report = _import(session, "address;reason\n+12025550101;manual\n2025550101;\n")
    assert (report.added, report.already_present) == (0, 2)
    entries = list_suppressions(session).items
    assert entries == (original.entry,)


def test_scope_channel_and_created_at_columns(session: Session) -> None:
    text = (
        "\ufeffaddress,scope,channel,created_at,source_campaign_id,detail\n"
        "+34600111222,whatsapp,whatsapp,2024-05-01T10:00:00Z,12,131050\n"
        "+34600111223,,,2024-05-01 10:00,,\n"
        "+34600111224,,,,x1,\n"
    )
    report = _import(session, text, region="ES")
    assert [(e.line, e.column) for e in report.errors] == [
        (3, "created_at"),
        (4, "source_campaign_id"),
    ]
    (entry,) = list_suppressions(session).items
    assert entry.scope is SuppressionScope.WHATSAPP and entry.channel is Channel.WHATSAPP
    assert entry.created_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert (entry.source_campaign_id, entry.detail) == (12, "131050")
    assert not is_suppressed(session, "+34600111222", Channel.SMS)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("phone,reason\n+12025550101,\n", "no 'address' column")],
)
def test_unusable_files_are_refused(session: Session, text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _import(session, text)


def test_many_rows_are_imported_in_batches(session: Session) -> None:
    rows = "".join(f"user{n}@example.com\n" for n in range(1234))
    report = _import(session, "address\n" + rows + "user7@example.com\n")
    assert (report.rows_read, report.added, report.already_present) == (1235, 1234, 1)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=1+1", "'=1+1"), ("+12025550101", "'+12025550101"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("ana@example.com", "ana@example.com"), ("", "")],
)  # fmt: skip
def test_formula_cells_are_neutralised(cell: str, expected: str) -> None:
    assert neutralize_cell(cell) == expected


def test_export_is_injection_safe_and_imports_back_unchanged(
    session: Session, tmp_path: Path
) -> None:
    clock = FakeClock()
    suppress(
        session,
        "+12025550101",
        reason=SuppressionReason.KEYWORD,
        clock=clock,
        detail='=HYPERLINK("x")',
        channel=Channel.SMS,
        source_campaign_id=3,
    )
    suppress(
        session, "ana@example.com", reason=SuppressionReason.ONE_CLICK_UNSUBSCRIBE, clock=clock
    )
    suppress(
        session,
        "+34600111222",
        reason=SuppressionReason.PROVIDER_OPT_OUT,
        scope=SuppressionScope.WHATSAPP,
        clock=clock,
    )
    session.commit()
    out = io.StringIO()
    assert export_suppressions_csv(session, out) == 3
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == [
        "address",
        "reason",
        "scope",
        "channel",
        "source_campaign_id",
        "detail",
        "created_at",
    ]
    assert rows[1][:6] == ["'+12025550101", "keyword", "all", "sms", "3", '\'=HYPERLINK("x")']
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    other = create_database_engine(f"sqlite:///{tmp_path}/copy.db")
    try:
        upgrade_database(other)
        with create_session_factory(other)() as copy:
            report = import_suppressions_csv(copy, io.StringIO(out.getvalue()), clock=FakeClock())
            assert report.errors == [] and report.added == 3
            copied = list_suppressions(copy).items
        assert _fields(copied) == _fields(list_suppressions(session).items)
    finally:
        other.dispose()


def _fields(entries: tuple[Suppression, ...]) -> list[tuple[object, ...]]:
    """Everything but the id, which a new database assigns afresh."""
    return [
        (e.address, e.scope, e.reason, e.channel, e.source_campaign_id, e.detail, e.created_at)
        for e in entries
    ]
