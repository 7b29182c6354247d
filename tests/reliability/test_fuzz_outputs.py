"""What Herald writes out stays inert, whatever the contacts' data holds.

* Message templates substitute values and nothing else: a value that looks
  like a variable, a template directive or code is sent as written, and in
  HTML email it is escaped, so no markup a contact typed reaches a mail
  client as markup.
* A template that tries to be code is either plain text or refused with
  its line and column.
* Exported CSVs (audiences, the suppression list) never hold a cell a
  spreadsheet would run as a formula, and the audience export reads back
  to the same values.
"""

from __future__ import annotations

import csv
import html
import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.audience.export import (
    FORMULA_TRIGGERS,
    csv_chunks,
    export_header,
    export_row,
    neutralise_cell,
    restore_cell,
)
from herald.domain.preview import ContactData, EmailMessage, render_step
from herald.domain.templates import TemplateSyntaxError, parse_template
from herald.services.suppression_csv import neutralize_cell
from tests.unit.campaign_factories import email_step

pytestmark = [pytest.mark.reliability]
# Fixed examples in every test run and CI (no flaky surprises); fresh ones in --full.
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=os.environ.get("HERALD_RELIABILITY") != "full",
)
HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "{{email}}",
        "{{ __class__.__mro__ }}",
        "{% for x in y %}{{x}}{% endfor %}",
        "${7*7}",
        "#{7*7}",
        "<%= 7*7 %>",
        '=HYPERLINK("http://evil.example","click")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\r\nBcc: victim@example.com",
        "\x00\u202e",
    ]
)
VALUES = HOSTILE | st.text(max_size=60)


@FUZZ
@given(value=VALUES, other=VALUES)
def test_a_value_is_substituted_verbatim_and_never_expanded(value: str, other: str) -> None:
    template = parse_template("Hi {{name}}, see you soon")
    rendered = template.render({"name": value, "email": other}).text
    expected_value = value if value.strip() else ""
    assert rendered == f"Hi {expected_value}, see you soon"


@FUZZ
@given(value=VALUES)
def test_html_email_escapes_every_value(value: str) -> None:
    step = email_step(subject="Hello {{name}}", text="Dear {{name}}", html="<p>{{name}}</p>")
    message = render_step(step, ContactData({"name": value}, email="ann@example.com")).message
    assert isinstance(message, EmailMessage)
    shown = value if value.strip() else ""
    assert message.html == f"<p>{html.escape(shown, quote=True)}</p>"
    assert "\r" not in message.subject and "\n" not in message.subject


@FUZZ
@given(source=HOSTILE | st.text(alphabet="{}%$#<>=|_. abc", max_size=40))
def test_a_template_is_text_or_a_located_syntax_error(source: str) -> None:
    try:
        template = parse_template(source, field="content.text")
    except TemplateSyntaxError as error:
        assert "line" in error.message and "column" in error.message
        return
    # Whatever parsed renders to its literal text plus plain values: no evaluation.
    values = {name: "V" for name in template.variable_names}
    rendered = template.render(values).text
    assert rendered.replace("V", "") == template.literal_text.replace("V", "")


CELLS = st.lists(HOSTILE | st.text(max_size=20), min_size=1, max_size=6)


@FUZZ
@given(phone=st.none() | st.text(max_size=16), email=st.none() | VALUES, values=CELLS)
def test_audience_export_has_no_formula_cells_and_reads_back(
    phone: str | None, email: str | None, values: list[str]
) -> None:
    text = "".join(csv_chunks(export_header([]), [export_row(phone, email, values)]))
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_TRIGGERS), cell
    exported = rows[1]
    assert [restore_cell(cell) for cell in exported] == [phone or "", email or "", *values]


@FUZZ
@given(value=VALUES)
def test_neutralised_cells_never_start_a_formula(value: str) -> None:
    assert not neutralise_cell(value).startswith(FORMULA_TRIGGERS)
    assert not neutralize_cell(value).startswith(FORMULA_TRIGGERS)
    assert restore_cell(neutralise_cell(value)) == value
