"""Provider error codes explained: title, meaning, retryability, what to do.

Logs, the API and the UI show every provider code through this catalog, so a
user reading "131026" also reads what it means and what can be done. Each
provider's entries live in their own module; unknown codes still get an entry
that says so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from herald.domain.channels import IntegrationKind


@dataclass(frozen=True)
class ErrorEntry:
    provider: IntegrationKind
    code: str
    title: str
    explanation: str
    is_retryable: bool
    action: str
    possible_reasons: tuple[str, ...] = field(default=())
    is_integration_fault: bool = False  # credentials/config/billing: pause the integration


class ErrorCatalog:
    def __init__(self, entries: tuple[ErrorEntry, ...] = ()) -> None:
        self._entries: dict[tuple[IntegrationKind, str], ErrorEntry] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: ErrorEntry) -> None:
        key = (entry.provider, entry.code)
        if key in self._entries:
            raise ValueError(f"duplicate catalog entry {entry.provider} {entry.code}")
        self._entries[key] = entry

    def find(self, provider: IntegrationKind, code: str) -> ErrorEntry | None:
        return self._entries.get((provider, code))

    def describe(self, provider: IntegrationKind, code: str) -> ErrorEntry:
        """The entry for ``code``, or an honest placeholder for codes not catalogued."""
        entry = self.find(provider, code)
        if entry is not None:
            return entry
        return ErrorEntry(
            provider=provider,
            code=code,
            title="Uncatalogued provider error",
            explanation=f"{provider} returned code {code}, which Herald has no description for.",
            is_retryable=False,
            action="Look the code up in the provider's documentation.",
        )

    def entries(self, provider: IntegrationKind | None = None) -> list[ErrorEntry]:
        return [e for e in self._entries.values() if provider is None or e.provider == provider]


def build_catalog() -> ErrorCatalog:
    """The catalog of every provider Herald knows."""
    catalog = ErrorCatalog()
    for module_entries in _provider_entries():
        for entry in module_entries:
            catalog.add(entry)
    return catalog


def _provider_entries() -> list[tuple[ErrorEntry, ...]]:
    # Each provider module contributes ENTRIES; imported here, not at package
    # import, so a module can import ErrorEntry from this package.
    from herald.domain.error_catalog import infobip, smtp, twilio, whatsapp

    return [whatsapp.ENTRIES, infobip.ENTRIES, twilio.ENTRIES, smtp.ENTRIES]
