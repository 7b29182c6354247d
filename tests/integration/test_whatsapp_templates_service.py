"""The template cache: fetched from the sandbox over HTTP, kept for its TTL, failures stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from herald.channels.sandbox.process import ProcessSandbox
from herald.channels.sandbox.scenario import Scenario
from herald.channels.sandbox.whatsapp_catalogue import catalogue_entries
from herald.channels.whatsapp import TemplateList
from herald.domain.channels import IntegrationKind
from herald.domain.ids import IntegrationId
from herald.errors import ValidationError
from herald.services.container import Herald
from herald.services.demo import integration_settings
from herald.services.integrations import IntegrationServices
from herald.services.whatsapp_templates import (
    ERROR_RETRY_SECONDS,
    cached_catalogues,
    fetch_with_client,
)
from herald.testing import FakeClock
from tests.auth_support import make_herald

TTL_SECONDS = 600


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProcessSandbox]:
    with ProcessSandbox(Scenario()) as running:
        yield running


@dataclass
class CountingFetch:
    """The real fetch, counted; ``fail_with`` makes the next calls fail like Meta would."""

    calls: int = 0
    fail_with: Exception | None = None
    seen: list[Any] = field(default_factory=list)

    async def __call__(
        self, services: IntegrationServices, settings: Any, kind: IntegrationKind
    ) -> TemplateList:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        return await fetch_with_client(services, settings, kind)


@dataclass
class Setup:
    herald: Herald
    clock: FakeClock
    fetch: CountingFetch
    whatsapp: IntegrationId
    sms: IntegrationId


@pytest.fixture
def setup(database_url: str, tmp_path: Path, sandbox: ProcessSandbox) -> Iterator[Setup]:
    clock = FakeClock()
    herald = make_herald(database_url, tmp_path, clock, whatsapp_templates_ttl_seconds=TTL_SECONDS)
    fetch = CountingFetch()
    herald.whatsapp_templates.fetch = fetch
    settings = integration_settings(sandbox.base_url, "http://127.0.0.1:8")
    with herald.sessions() as db:
        kind, values = settings["demo-whatsapp"]
        whatsapp = herald.integrations.create(db, name="clinic-wa", kind=kind, settings=values)
        kind, values = settings["demo-sms"]
        sms = herald.integrations.create(db, name="clinic-sms", kind=kind, settings=values)
    yield Setup(herald, clock, fetch, whatsapp.id, sms.id)
    herald.close()


def test_the_first_look_fetches_every_template_over_http(setup: Setup) -> None:
    view = setup.herald.whatsapp_templates.ensure_fresh(setup.whatsapp)
    assert setup.fetch.calls == 1
    assert view.error is None and view.is_complete
    assert view.templates is not None
    assert len(view.templates) == len(catalogue_entries())
    assert view.fetched_at == setup.clock.now()
    assert {item.name for item in view.approved} >= {"appointment_reminder", "hello_world"}
    assert "spring_sale" not in {item.name for item in view.approved}


def test_the_cache_is_used_until_the_ttl_passes(setup: Setup) -> None:
    service = setup.herald.whatsapp_templates
    service.ensure_fresh(setup.whatsapp)
    setup.clock.advance(timedelta(seconds=TTL_SECONDS - 1))
    service.ensure_fresh(setup.whatsapp)
    assert setup.fetch.calls == 1
    setup.clock.advance(timedelta(seconds=1))
    view = service.ensure_fresh(setup.whatsapp)
    assert setup.fetch.calls == 2
    assert view.fetched_at == setup.clock.now()


def test_refresh_fetches_at_once(setup: Setup) -> None:
    service = setup.herald.whatsapp_templates
    service.ensure_fresh(setup.whatsapp)
    service.refresh(setup.whatsapp)
    assert setup.fetch.calls == 2


def test_a_failure_is_stored_not_raised_and_the_last_good_list_stays(setup: Setup) -> None:
    from herald.channels.whatsapp import TemplateListError

    service = setup.herald.whatsapp_templates
    good = service.ensure_fresh(setup.whatsapp)
    setup.fetch.fail_with = TemplateListError("WhatsApp error 190: token expired (HTTP 401)")
    setup.clock.advance(timedelta(seconds=TTL_SECONDS))
    failed = service.ensure_fresh(setup.whatsapp)
    assert failed.error == "WhatsApp error 190: token expired (HTTP 401)"
    assert failed.templates == good.templates
    assert failed.fetched_at == good.fetched_at
    # A failed attempt is retried after a short pause, not on every render.
    setup.clock.advance(timedelta(seconds=ERROR_RETRY_SECONDS - 1))
    service.ensure_fresh(setup.whatsapp)
    assert setup.fetch.calls == 2
    setup.fetch.fail_with = None
    setup.clock.advance(timedelta(seconds=1))
    recovered = service.ensure_fresh(setup.whatsapp)
    assert (setup.fetch.calls, recovered.error) == (3, None)


def test_a_wrong_token_is_reported_with_metas_reason(setup: Setup) -> None:
    herald = setup.herald
    with herald.sessions() as db:
        herald.integrations.update(db, setup.whatsapp, settings={"access_token": "wrong-token"})
    view = herald.whatsapp_templates.refresh(setup.whatsapp)
    assert view.templates is None
    assert view.error is not None and "WhatsApp error 190" in view.error


def test_an_unreachable_api_is_reported(setup: Setup) -> None:
    herald = setup.herald
    with herald.sessions() as db:
        herald.integrations.update(
            db, setup.whatsapp, settings={"graph_base_url": "http://127.0.0.1:9"}
        )
    view = herald.whatsapp_templates.refresh(setup.whatsapp)
    assert view.templates is None
    assert view.error is not None and "cannot reach the WhatsApp API" in view.error


def test_another_business_account_makes_the_cache_stale(setup: Setup) -> None:
    herald = setup.herald
    herald.whatsapp_templates.ensure_fresh(setup.whatsapp)
    with herald.sessions() as db:
        herald.integrations.update(db, setup.whatsapp, settings={"waba_id": "999"})
        catalogue = cached_catalogues(db)["clinic-wa"]
    assert catalogue.templates is None
    assert catalogue.problem == "the business account changed since the templates were read"
    view = herald.whatsapp_templates.ensure_fresh(setup.whatsapp)
    assert setup.fetch.calls == 2
    assert view.templates is None and view.error is not None and "WhatsApp error 100" in view.error


def test_the_checks_read_the_cache_by_integration_name(setup: Setup) -> None:
    herald = setup.herald
    with herald.sessions() as db:
        assert cached_catalogues(db)["clinic-wa"].templates is None
        assert "clinic-sms" not in cached_catalogues(db)
    herald.whatsapp_templates.ensure_fresh(setup.whatsapp)
    with herald.sessions() as db:
        catalogue = cached_catalogues(db)["clinic-wa"]
    found = catalogue.find("appointment_reminder", "es")
    assert found is not None and found.body_parameters == 2
    assert setup.fetch.calls == 1


def test_only_whatsapp_integrations_have_templates(setup: Setup) -> None:
    with pytest.raises(ValidationError, match="only WhatsApp integrations have templates"):
        setup.herald.whatsapp_templates.ensure_fresh(setup.sms)
    assert setup.fetch.calls == 0


def test_a_journey_brings_only_its_whatsapp_lists_up_to_date(setup: Setup) -> None:
    service = setup.herald.whatsapp_templates
    service.ensure_fresh_for_journey(None)
    service.ensure_fresh_for_journey({"primary": "not a step", "fallbacks": "nor these"})
    service.ensure_fresh_for_journey({"primary": {"integration": {"name": "clinic-sms"}}})
    assert setup.fetch.calls == 0
    journey = {
        "primary": {"integration": {"name": "clinic-sms"}},
        "fallbacks": [{"integration": {"name": "clinic-wa"}}, {"integration": None}],
    }
    service.ensure_fresh_for_journey(journey)
    service.ensure_fresh_for_journey(journey)
    assert setup.fetch.calls == 1
