"""Row validation: what is wrong with each record, on its own.

This is the part of an upload that costs CPU, so it is a pure function of a
batch of records and a picklable :class:`ValidationPlan`: callers may run
batches in worker processes. Duplicates need every earlier row and are found
afterwards, in order (see :mod:`herald.domain.audience.pipeline`).

Rules, in order:

1. a row with broken quoting, more or fewer cells than the header
   (``field_count``), or cells visibly one column off (``shifted_columns``,
   see :func:`_split_at`) is rejected with that one problem: the values
   right of the shift cannot be trusted;
2. neither phone nor email: rejected (``no_contact``);
3. each contact method is validated (``phone_invalid``, ``email_invalid``,
   ``multiple_values``). If at least one is valid the row is kept and the
   other's problem is a warning; otherwise every problem is an error;
4. kept rows also get warnings for phone extensions and formula-like cells.

Cells past the header's width that are all empty are ignored: they hold no
value that could be misplaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from operator import methodcaller
from typing import NamedTuple

from herald.domain.audience.batches import Batch, BatchVerdicts
from herald.domain.audience.columns import EMAIL, PHONE, ColumnMapping
from herald.domain.audience.email_address import check_email, looks_like_email
from herald.domain.audience.phone_number import check_phone, looks_like_phone
from herald.domain.audience.problems import Problem, ProblemCode, Severity

FORMULA_STARTS = ("=", "@")
SIGNED_FORMULA_STARTS = ("+", "-")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class ValidationPlan:
    mapping: ColumnMapping
    default_region: str
    delimiter: str = ","


class Verdict(NamedTuple):
    """A record's own validation result; ``phone``/``email`` are set only when valid."""

    row: int
    phone: str | None
    email: str | None
    problems: tuple[Problem, ...]
    rejected: bool


def validate_batch(plan: ValidationPlan, batch: Batch) -> BatchVerdicts:
    collector = VerdictCollector(plan.mapping)
    for fields, verdict in checked_records(plan, batch):
        collector.add(fields, verdict)
    return collector.verdicts()


def checked_records(plan: ValidationPlan, batch: Batch) -> Iterator[tuple[list[str], Verdict]]:
    """(cells, verdict) of each record of ``batch``, in order."""
    for row, fields, quote_error in batch.records():
        yield fields, validate_record(plan, row, fields, quote_error)


class VerdictCollector:
    """Gathers a batch's verdicts into :class:`BatchVerdicts`, one record at a time,
    counting the custom fields that rows not rejected fill (for the summary)."""

    def __init__(self, mapping: ColumnMapping) -> None:
        self._custom = mapping.custom_indexes
        self._filled = [0] * len(self._custom)
        self._phones: list[str] = []
        self._emails: list[str] = []
        self._problems: dict[int, tuple[Problem, ...]] = {}
        self._rejected: set[int] = set()

    def add(self, fields: list[str], verdict: Verdict) -> None:
        position = len(self._phones)
        self._phones.append(verdict.phone or "")
        self._emails.append(verdict.email or "")
        if verdict.problems:
            self._problems[position] = verdict.problems
        if verdict.rejected:
            self._rejected.add(position)
            return
        filled = self._filled
        for slot, index in enumerate(self._custom):
            value = fields[index]
            if value and not value.isspace():
                filled[slot] += 1

    def verdicts(self) -> BatchVerdicts:
        return BatchVerdicts.of(
            self._phones, self._emails, self._problems, self._rejected, tuple(self._filled)
        )


def validate_record(
    plan: ValidationPlan, row: int, fields: list[str], quote_error: str | None = None
) -> Verdict:
    mapping = plan.mapping
    if quote_error is not None:
        return _reject(row, None, ProblemCode.BROKEN_QUOTES, f"Row rejected: {quote_error}")
    width = len(mapping.header)
    if len(fields) != width:
        if len(fields) < width or any(cell.strip() for cell in fields[width:]):
            return _field_count(plan, row, fields)
        fields = fields[:width]
    verdict = validate_contact(plan, row, fields)
    # A split cell always leaves a contact cell invalid (an email where the phone
    # belongs, or the reverse), so only rows with such a problem are examined.
    problems = verdict.problems
    if problems and any(problem.code in _CONTACT_CODES for problem in problems):
        shifted = _shift_message(mapping, fields)
        if shifted is not None:
            return _reject(row, shifted[0], ProblemCode.SHIFTED_COLUMNS, shifted[1])
    return verdict


_CONTACT_CODES = frozenset(
    {ProblemCode.PHONE_INVALID, ProblemCode.EMAIL_INVALID, ProblemCode.MULTIPLE_VALUES}
)


def validate_contact(plan: ValidationPlan, row: int, fields: list[str]) -> Verdict:
    """Rules 2 to 4 only: for cells that did not come from a file (quick add)."""
    mapping = plan.mapping
    phone_text = "" if mapping.phone_index is None else fields[mapping.phone_index].strip()
    email_text = "" if mapping.email_index is None else fields[mapping.email_index].strip()
    if not phone_text and not email_text:
        return _reject(row, None, ProblemCode.NO_CONTACT, _NO_CONTACT)
    return _contact_verdict(plan, row, fields, phone_text, email_text)


_NO_CONTACT = "Row rejected: it has neither a phone nor an email. Add one or delete the row."


def _contact_verdict(
    plan: ValidationPlan, row: int, fields: list[str], phone_text: str, email_text: str
) -> Verdict:
    mapping = plan.mapping
    phone, extension, phone_problem = _phone(phone_text, plan.default_region)
    email, email_problem = _email(email_text)
    kept = phone is not None or email is not None
    severity = Severity.WARNING if kept else Severity.ERROR
    problems: list[Problem] = []
    if phone_problem is not None:
        code, message = phone_problem
        problems.append(Problem(row, mapping.phone_column, code, severity, message + _kept(email)))
    if email_problem is not None:
        code, message = email_problem
        problems.append(Problem(row, mapping.email_column, code, severity, message + _kept(phone)))
    if kept:
        if extension:
            problems.append(_extension(row, mapping.phone_column, extension, phone))
        problems.extend(_formula_warnings(row, mapping, fields))
    return Verdict(row, phone, email, tuple(problems), not kept)


def _kept(other: str | None) -> str:
    if other is None:
        return " Row rejected: no valid phone or email."
    return " The row is kept for its other contact method."


def _phone(text: str, region: str) -> tuple[str | None, str | None, tuple[ProblemCode, str] | None]:
    if not text:
        return None, None, None
    check = check_phone(text, region)
    if check.several is not None:
        return None, None, (ProblemCode.MULTIPLE_VALUES, _several("phone numbers", check.several))
    if check.error is not None:
        return None, None, (ProblemCode.PHONE_INVALID, check.error)
    return check.e164, check.extension, None


def _email(text: str) -> tuple[str | None, tuple[ProblemCode, str] | None]:
    if not text:
        return None, None
    check = check_email(text)
    if check.several is not None:
        return None, (ProblemCode.MULTIPLE_VALUES, _several("email addresses", check.several))
    if check.error is not None:
        return None, (ProblemCode.EMAIL_INVALID, check.error)
    return check.normalized, None


def _several(kind: str, values: list[str]) -> str:
    shown = " and ".join(f"'{value}'" for value in values[:3])
    return (
        f"The cell holds {len(values)} {kind} ({shown}); one cell takes one. Keep one here "
        "(put another in its own row or in a custom column)."
    )


def _extension(row: int, column: str | None, extension: str, e164: str | None) -> Problem:
    return Problem(
        row,
        column,
        ProblemCode.PHONE_EXTENSION,
        Severity.WARNING,
        f"The phone has extension {extension}, which WhatsApp, SMS and calls cannot dial; "
        f"the number is kept as {e164} without it.",
    )


def is_formula_like(value: str) -> bool:
    """Would a spreadsheet evaluate this cell? ``=``/``@`` always; ``+``/``-``
    when followed by something other than a number (``-5`` and ``+44 20...`` are data)."""
    if value.startswith(FORMULA_STARTS):
        return True
    if value.startswith(SIGNED_FORMULA_STARTS) and len(value) > 1:
        return not (value[1].isdigit() or value[1] in " .(")
    return False


_starts_like_formula = methodcaller("startswith", FORMULA_STARTS + SIGNED_FORMULA_STARTS)


def _formula_warnings(row: int, mapping: ColumnMapping, fields: list[str]) -> list[Problem]:
    if not any(map(_starts_like_formula, map(fields.__getitem__, mapping.custom_indexes))):
        return []  # the common row, checked without a Python-level loop
    return [
        Problem(
            row,
            field.header,
            ProblemCode.FORMULA_LIKE,
            Severity.WARNING,
            f"'{fields[field.index]}' would run as a formula in a spreadsheet. It is stored "
            "as text, and exports put ' in front of it so spreadsheets show it instead.",
        )
        for field in mapping.custom_fields
        if fields[field.index] and is_formula_like(fields[field.index])
    ]


def _reject(row: int, column: str | None, code: ProblemCode, message: str) -> Verdict:
    return Verdict(row, None, None, (Problem(row, column, code, Severity.ERROR, message),), True)


def _looks_like(role: str, value: str) -> bool:
    return looks_like_email(value) if role == EMAIL else looks_like_phone(value)


def _roles(mapping: ColumnMapping) -> dict[int, str]:
    roles = {}
    if mapping.phone_index is not None:
        roles[mapping.phone_index] = PHONE
    if mapping.email_index is not None:
        roles[mapping.email_index] = EMAIL
    return roles


def _split_at(mapping: ColumnMapping, fields: list[str]) -> int | None:
    """The contact column that holds the overflow of the contact column on its left.

    A cell split in two (``a@x.com`` | ``b@y.com``) pushes its second half into
    the next column; when that column is a contact column of the other kind,
    its value looks like its left neighbour's kind and not like its own.
    """
    roles = _roles(mapping)
    for index, role in sorted(roles.items()):
        left = roles.get(index - 1)
        if left is None or index >= len(fields):
            continue
        value = fields[index]
        if _looks_like(left, value) and not _looks_like(role, value):
            return index
    return None


def _shift_message(mapping: ColumnMapping, fields: list[str]) -> tuple[str, str] | None:
    index = _split_at(mapping, fields)
    if index is None or index + 1 >= len(fields):
        return None
    role = _roles(mapping)[index]
    if not _looks_like(role, fields[index + 1]):
        return None
    header = mapping.header
    return header[index], (
        f"Row rejected: the {header[index - 1]} cell seems split in two: '{header[index]}' "
        f"holds '{fields[index].strip()}' and its own value sits one column to the right, "
        f"so every cell from '{header[index]}' on is in the wrong column. Put one value in "
        f"'{header[index - 1]}' (or quote the cell that holds two), then upload again."
    )


def _field_count(plan: ValidationPlan, row: int, fields: list[str]) -> Verdict:
    header = plan.mapping.header
    width = len(header)
    delimiter = _DELIMITER_NAMES.get(plan.delimiter, repr(plan.delimiter))
    split = _split_at(plan.mapping, fields)
    where = f" from '{header[split]}' on" if split is not None else ""
    if len(fields) > width:
        message = (
            f"Row rejected: it has {len(fields)} cells but the header has {width} columns, so "
            f"the cells{where} cannot be matched to their columns (probably a cell containing "
            f"a {delimiter} without quotes). Quote that cell or remove the extra {delimiter}, "
            "then upload again."
        )
    else:
        message = (
            f"Row rejected: it has {len(fields)} cells but the header has {width} columns, so "
            "the cells cannot be matched to their columns. Add the missing cells (empty ones "
            f"are fine: two {delimiter}s in a row), then upload again."
        )
    column = header[split] if split is not None else None
    return _reject(row, column, ProblemCode.FIELD_COUNT, message)
