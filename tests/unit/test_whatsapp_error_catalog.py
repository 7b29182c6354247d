"""The WhatsApp error catalog: complete for the documented codes, consistent flags."""

from __future__ import annotations

import pytest

from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import build_catalog
from herald.domain.error_catalog.whatsapp import ENTRIES, UNDELIVERABLE_REASONS

WA = IntegrationKind.WHATSAPP

# Every code of providers.md section 1.9, with the expected classification.
RETRYABLE = ["1", "2", "4", "80007", "130429", "131000", "131016", "131056", "131057"]
INTEGRATION_FAULTS = ["0", "3", "10", "190", "200", "250", "299", "368"]
INTEGRATION_FAULTS += ["131005", "131031", "131042", "131045", "131048"]
TERMINAL = ["100", "470", "130472", "131008", "131009", "131021", "131026", "131030"]
TERMINAL += ["131047", "131049", "131050", "131051", "131052", "131053"]
TERMINAL += ["132000", "132001", "132005", "132007", "132012", "132015", "132016", "135000"]


@pytest.mark.parametrize("code", RETRYABLE)
def test_transient_codes_are_retryable(code: str) -> None:
    entry = build_catalog().find(WA, code)
    assert entry is not None
    assert entry.is_retryable
    assert not entry.is_integration_fault


@pytest.mark.parametrize("code", INTEGRATION_FAULTS)
def test_account_codes_pause_the_integration(code: str) -> None:
    entry = build_catalog().find(WA, code)
    assert entry is not None
    assert entry.is_integration_fault
    assert not entry.is_retryable


@pytest.mark.parametrize("code", TERMINAL)
def test_recipient_and_request_codes_are_terminal(code: str) -> None:
    entry = build_catalog().find(WA, code)
    assert entry is not None
    assert not entry.is_retryable
    assert not entry.is_integration_fault


def test_every_entry_explains_itself() -> None:
    for entry in ENTRIES:
        assert entry.provider is WA
        assert entry.title and entry.explanation and entry.action
        assert entry.code.isdigit()


def test_the_catalog_covers_exactly_the_classified_codes_plus_the_permission_range() -> None:
    listed = set(RETRYABLE + INTEGRATION_FAULTS + TERMINAL)
    permission_range = {str(code) for code in range(200, 300)}
    assert {entry.code for entry in ENTRIES} == listed | permission_range


def test_undeliverable_lists_its_possible_reasons() -> None:
    entry = build_catalog().describe(WA, "131026")
    assert entry.possible_reasons == UNDELIVERABLE_REASONS
    assert len(entry.possible_reasons) == 5
    assert any("Terms" in reason for reason in entry.possible_reasons)


def test_uncatalogued_codes_still_get_an_honest_description() -> None:
    entry = build_catalog().describe(WA, "999999")
    assert entry.title == "Uncatalogued provider error"
    assert "999999" in entry.explanation
