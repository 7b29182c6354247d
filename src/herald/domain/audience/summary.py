"""The audience summary shown after a check or an import.

Counts add up: ``records_read == valid_contacts + rejected_rows + duplicates``.
``warnings`` counts warning problems other than duplicates (which have their
own count). Blank rows are counted apart and are not records. Fill rates
are over valid contacts; sample values are up to three distinct values per
field among the first thousand contacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from herald.domain.audience.columns import ColumnMapping
from herald.domain.audience.problems import Severity

SAMPLE_VALUES = 3
SAMPLED_CONTACTS = 1000


@dataclass(frozen=True)
class CustomFieldSummary:
    header: str
    variable: str
    filled: int
    fill_rate: float
    samples: tuple[str, ...]


@dataclass(frozen=True)
class AudienceSummary:
    records_read: int = 0
    valid_contacts: int = 0
    rejected_rows: int = 0
    duplicates: int = 0
    warnings: int = 0
    phones_available: int = 0
    emails_available: int = 0
    blank_rows: int = 0
    custom_fields: tuple[CustomFieldSummary, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "records_read": self.records_read,
            "valid_contacts": self.valid_contacts,
            "rejected_rows": self.rejected_rows,
            "duplicates": self.duplicates,
            "warnings": self.warnings,
            "phones_available": self.phones_available,
            "emails_available": self.emails_available,
            "blank_rows": self.blank_rows,
            "custom_fields": [
                {
                    "header": f.header,
                    "variable": f.variable,
                    "filled": f.filled,
                    "fill_rate": f.fill_rate,
                    "samples": list(f.samples),
                }
                for f in self.custom_fields
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AudienceSummary:
        fields = tuple(
            CustomFieldSummary(
                f["header"], f["variable"], f["filled"], f["fill_rate"], tuple(f["samples"])
            )
            for f in data.get("custom_fields", ())
        )
        counts = {key: value for key, value in data.items() if key != "custom_fields"}
        return cls(**counts, custom_fields=fields)

    def with_contact(
        self, phone: str | None, email: str | None, values: Mapping[str, str], warnings: int
    ) -> AudienceSummary:
        """The summary after one more contact was added (quick add)."""
        valid = self.valid_contacts + 1
        fields = []
        for summary in self.custom_fields:
            value = values.get(summary.variable, "")
            filled = summary.filled + (1 if value.strip() else 0)
            samples = summary.samples
            if value.strip() and len(samples) < SAMPLE_VALUES and value not in samples:
                samples = (*samples, value)
            fields.append(
                replace(summary, filled=filled, fill_rate=_rate(filled, valid), samples=samples)
            )
        return replace(
            self,
            records_read=self.records_read + 1,
            valid_contacts=valid,
            warnings=self.warnings + warnings,
            phones_available=self.phones_available + (phone is not None),
            emails_available=self.emails_available + (email is not None),
            custom_fields=tuple(fields),
        )


def _rate(filled: int, total: int) -> float:
    return round(filled / total, 4) if total else 0.0


class SummaryBuilder:
    """Accumulates a summary while outcomes stream past (once per row: kept lean)."""

    def __init__(self, mapping: ColumnMapping) -> None:
        self._mapping = mapping
        self.records_read = self.rejected_rows = self.duplicates = self.warnings = 0
        self._valid = self._phones = self._emails = 0
        self._filled = dict.fromkeys(mapping.variables, 0)
        self._samples: dict[str, list[str]] = {variable: [] for variable in mapping.variables}
        self._sampling = bool(mapping.variables)
        self._variables = [(f.variable, f.index) for f in mapping.custom_fields]

    def add_contact(self, phone: str | None, email: str | None, values: Mapping[str, str]) -> None:
        self._valid += 1
        if phone is not None:
            self._phones += 1
        if email is not None:
            self._emails += 1
        filled = self._filled
        for variable, value in values.items():
            if value and not value.isspace():
                filled[variable] += 1
        if self._sampling:
            self._sample(values)

    def add_contacts(
        self,
        *,
        contacts: int,
        phones: int,
        emails: int,
        filled: Sequence[int],
        not_contacts: Sequence[Sequence[str]],
        fields: Iterable[Sequence[str]],
    ) -> None:
        """A batch's contacts at once: the same as :meth:`add_contact` for each.

        ``filled`` counts, per custom field in mapping order, the filled cells of
        every row that was not rejected, ``not_contacts`` the cells of those rows
        that are duplicates after all (their cells are taken off again);
        ``fields`` gives the contacts' cells in order, read only while samples
        are still being collected.
        """
        start = self._valid
        if self._sampling:
            variables = self._variables
            for cells in fields:
                self._valid += 1
                self._sample({variable: cells[index] for variable, index in variables})
                if not self._sampling:
                    break
        self._valid = start + contacts
        self._phones += phones
        self._emails += emails
        totals = self._filled
        for (variable, index), count in zip(self._variables, filled, strict=True):
            totals[variable] += count
            for cells in not_contacts:
                value = cells[index]
                if value and not value.isspace():
                    totals[variable] -= 1

    def _sample(self, values: Mapping[str, str]) -> None:
        """Up to ``SAMPLE_VALUES`` distinct values per field, from the first
        ``SAMPLED_CONTACTS`` contacts (so a field that never fills up costs nothing later)."""
        for variable, value in values.items():
            samples = self._samples[variable]
            filled = value and not value.isspace()
            if filled and len(samples) < SAMPLE_VALUES and value not in samples:
                samples.append(value)
        full = all(len(samples) >= SAMPLE_VALUES for samples in self._samples.values())
        self._sampling = not full and self._valid < SAMPLED_CONTACTS

    def add_problem_severity(self, severity: Severity) -> None:
        if severity is Severity.WARNING:
            self.warnings += 1

    def build(self, blank_rows: int) -> AudienceSummary:
        valid = self._valid
        fields = tuple(
            CustomFieldSummary(
                f.header,
                f.variable,
                self._filled[f.variable],
                _rate(self._filled[f.variable], valid),
                tuple(self._samples[f.variable]),
            )
            for f in self._mapping.custom_fields
        )
        return AudienceSummary(
            records_read=self.records_read,
            valid_contacts=valid,
            rejected_rows=self.rejected_rows,
            duplicates=self.duplicates,
            warnings=self.warnings,
            phones_available=self._phones,
            emails_available=self._emails,
            blank_rows=blank_rows,
            custom_fields=fields,
        )
