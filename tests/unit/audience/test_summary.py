"""The summary's counts add up and follow quick adds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.audience.pipeline import RowStatus
from herald.domain.audience.summary import AudienceSummary

from .helpers import check_bytes

CELLS = st.sampled_from(
    ["a@example.com", "A@example.com", "b@example.com", "nope", "", "+12025550101", "12", "x"]
)


@settings(max_examples=60)
@given(st.lists(st.lists(CELLS, min_size=2, max_size=4), max_size=15))
def test_counts_add_up(rows: list[list[str]]) -> None:
    text = "email,phone,note\r\n" + "".join(",".join(row) + "\r\n" for row in rows)
    check, outcomes = check_bytes(text.encode())
    summary = check.summary()
    assert summary.records_read == len(outcomes)
    assert summary.records_read == (
        summary.valid_contacts + summary.rejected_rows + summary.duplicates
    )
    added = [o for o in outcomes if o.status is RowStatus.ADDED]
    assert summary.phones_available == sum(o.phone is not None for o in added)
    assert summary.emails_available == sum(o.email is not None for o in added)
    assert summary.records_read + summary.blank_rows == len(rows)


def test_custom_fields_report_fill_rate_and_samples() -> None:
    check, _ = check_bytes(
        b"email,plan,note\r\na@x.com,gold,\r\nb@x.com,gold,hi\r\nc@x.com,silver, \r\n"
        b"d@x.com,bronze,\r\ne@x.com,platinum,\r\n"
    )
    plan, note = check.summary().custom_fields
    assert (plan.filled, plan.fill_rate, plan.samples) == (5, 1.0, ("gold", "silver", "bronze"))
    assert (note.filled, note.fill_rate, note.samples) == (1, 0.2, ("hi",))


def test_a_quick_add_updates_counts_fill_rates_and_samples() -> None:
    check, _ = check_bytes(b"email,plan\r\na@x.com,gold\r\nb@x.com,\r\n")
    summary = check.summary().with_contact("+12025550101", None, {"plan": "silver"}, warnings=1)
    assert (summary.records_read, summary.valid_contacts, summary.warnings) == (3, 3, 1)
    assert (summary.phones_available, summary.emails_available) == (1, 2)
    plan = summary.custom_fields[0]
    assert (plan.filled, plan.fill_rate, plan.samples) == (2, 0.6667, ("gold", "silver"))
    assert AudienceSummary.from_dict(summary.as_dict()) == summary
