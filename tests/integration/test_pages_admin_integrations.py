"""The integrations pages: list, add per provider, edit, test the connection, activate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from herald.channels.sandbox.process import ProcessSandbox
from herald.channels.sandbox.scenario import SandboxCredentials, Scenario
from herald.services.audit import list_audit
from herald.store.integrations import IntegrationRow
from tests.admin_pages_support import PAGE, Pages, assert_clean_page, build_pages, post_form

CREDS = SandboxCredentials()


@pytest.fixture
def pages(sqlite_url: str, tmp_path: Path) -> Iterator[Pages]:
    yield from build_pages(sqlite_url, tmp_path)


@pytest.fixture
def pages_any(database_url: str, tmp_path: Path) -> Iterator[Pages]:
    yield from build_pages(database_url, tmp_path)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProcessSandbox]:
    with ProcessSandbox(Scenario()) as running:
        yield running


def sms_form(base_url: str, **overrides: str) -> dict[str, str]:
    return {
        "kind": "infobip_sms",
        "name": "Clinic SMS",
        "base_url": base_url,
        "api_key": CREDS.infobip_api_key,
        "sender": "Clinic",
        "webhook_secret": CREDS.infobip_webhook_secret,
        "is_active": "true",
    } | overrides


def add_sms(pages: Pages, base_url: str, **overrides: str) -> int:
    response = post_form(pages.member, "/integrations", sms_form(base_url, **overrides))
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/integrations/(\d+)\?notice=created", response.headers["location"])
    assert match
    return int(match.group(1))


def test_pages_need_a_signed_in_user(pages: Pages) -> None:
    for path in ("/integrations", "/integrations/new", "/integrations/1"):
        response = pages.anonymous.get(path, headers=PAGE, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    response = pages.anonymous.post("/integrations", data={"kind": "infobip_sms"}, headers=PAGE)
    assert response.status_code in (401, 403)


def test_the_form_of_each_provider_comes_from_its_settings(pages: Pages) -> None:
    chooser = pages.member.get("/integrations/new", headers=PAGE)
    for label in ("WhatsApp Cloud API", "Infobip SMS", "Twilio Voice", "SMTP email"):
        assert label in chooser.text
    expected = {
        "whatsapp": ["phone_number_id", "waba_id", "access_token", "app_secret"],
        "infobip_sms": ["base_url", "api_key", "sender", "webhook_secret", "api_flavour"],
        "twilio_voice": ["account_sid", "auth_token", "caller_id", "public_base_url"],
        "email_smtp": ["host", "port", "security", "password", "from_address", "tls_ca_pem"],
    }
    for kind, names in expected.items():
        page = pages.member.get(f"/integrations/new?kind={kind}", headers=PAGE)
        assert page.status_code == 200
        assert_clean_page(page.text)
        for name in names:
            assert f'name="{name}"' in page.text, (kind, name)
    whatsapp = pages.member.get("/integrations/new?kind=whatsapp", headers=PAGE).text
    assert re.search(r'type="password" id="setting-access_token"', whatsapp)
    assert pages.member.get("/integrations/new?kind=fax", headers=PAGE).status_code == 404
    assert pages.member.get("/integrations/999", headers=PAGE).status_code == 404


def test_add_then_list_shows_kind_status_and_health_never_the_secret(pages_any: Pages) -> None:
    pages = pages_any
    integration_id = add_sms(pages, "https://abcd.api.infobip.com")
    detail = pages.member.get(f"/integrations/{integration_id}?notice=created", headers=PAGE)
    assert "Integration added." in detail.text
    assert "http://testserver/webhooks/infobip/inbound" in detail.text
    assert_clean_page(detail.text)
    listing = pages.member.get("/integrations", headers=PAGE).text
    assert "Clinic SMS" in listing and "Infobip SMS" in listing
    assert 'data-status="active"' in listing and 'data-status="unknown"' in listing
    for html in (detail.text, listing):
        assert CREDS.infobip_api_key not in html
        assert CREDS.infobip_webhook_secret not in html
    with pages.herald.sessions() as session:
        row = session.scalars(select(IntegrationRow)).one()
        assert CREDS.infobip_api_key not in str(row.settings)


def test_bad_input_names_the_field_and_keeps_what_was_typed(pages: Pages) -> None:
    response = post_form(pages.member, "/integrations", sms_form("not a url", name="Typed name"))
    assert response.status_code == 422
    assert "base_url" in response.text
    assert 'value="Typed name"' in response.text
    assert 'id="integration-active" name="is_active" value="true" checked' in response.text
    unticked = {k: v for k, v in sms_form("not a url").items() if k != "is_active"}
    again = post_form(pages.member, "/integrations", unticked)
    assert 'id="integration-active" name="is_active" value="true">' in again.text
    assert 'id="setting-base_url"' in response.text and 'aria-invalid="true"' in response.text
    assert CREDS.infobip_api_key not in response.text  # secrets are typed again, never echoed
    add_sms(pages, "https://abcd.api.infobip.com")
    duplicate = post_form(pages.member, "/integrations", sms_form("https://abcd.api.infobip.com"))
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    missing = post_form(pages.member, "/integrations", {"name": "x"})
    assert missing.status_code == 422 and "Choose the kind" in missing.text


def test_forms_without_the_csrf_token_are_refused(pages: Pages) -> None:
    integration_id = add_sms(pages, "https://abcd.api.infobip.com")
    for url in (
        "/integrations",
        f"/integrations/{integration_id}/deactivate",
        f"/integrations/{integration_id}/test",
        f"/integrations/{integration_id}/settings",
    ):
        response = pages.member.post(url, data=sms_form("https://x.example"), headers=PAGE)
        assert response.status_code == 403, url
        assert "reload the page" in response.text
    with pages.herald.sessions() as session:
        assert session.scalars(select(IntegrationRow.is_active)).all() == [True]


def test_deactivate_and_activate(pages: Pages) -> None:
    integration_id = add_sms(pages, "https://abcd.api.infobip.com")
    page = f"/integrations/{integration_id}"
    response = post_form(pages.member, f"{page}/deactivate", page=page)
    assert response.headers["location"] == f"{page}?notice=deactivated"
    assert 'data-status="inactive"' in pages.member.get(page, headers=PAGE).text
    assert f'action="{page}/activate"' in pages.member.get(page, headers=PAGE).text
    post_form(pages.member, f"{page}/activate", page=page)
    with pages.herald.sessions() as session:
        assert session.scalars(select(IntegrationRow.is_active)).one() is True
        entries = list_audit(session).items
    assert [(e.action, e.target.id if e.target else None) for e in entries[:3]] == [
        ("integration.activated", str(integration_id)),
        ("integration.deactivated", str(integration_id)),
        ("integration.created", None),
    ]
    assert entries[2].details == {"name": "Clinic SMS", "kind": "infobip_sms"}
    assert entries[0].actor.label == "max@example.com"
    assert post_form(pages.member, "/integrations/999/activate").status_code == 404


def test_editing_keeps_secrets_left_empty_and_replaces_typed_ones(pages: Pages) -> None:
    integration_id = add_sms(pages, "https://abcd.api.infobip.com")
    page = f"/integrations/{integration_id}"
    form = sms_form("https://efgh.api.infobip.com", api_key="", webhook_secret="")
    response = post_form(pages.member, f"{page}/settings", form, page=page)
    assert response.headers["location"] == f"{page}?notice=saved"
    with pages.herald.sessions() as session:
        settings = pages.herald.integrations.provider_settings(session, integration_id)
    assert settings.base_url == "https://efgh.api.infobip.com"  # type: ignore[attr-defined]
    assert settings.api_key.get_secret_value() == CREDS.infobip_api_key  # type: ignore[attr-defined]
    faster = form | {"rate_limit_per_second": "250"}
    post_form(pages.member, f"{page}/settings", faster, page=page)
    with pages.herald.sessions() as session:
        assert pages.herald.integrations.get(session, integration_id).rate_limit_per_second == 250
    assert "250 messages per second" in pages.member.get(page, headers=PAGE).text
    bad = post_form(pages.member, f"{page}/settings", form | {"sender": ""}, page=page)
    assert bad.status_code == 422 and "sender" in bad.text
    with pages.herald.sessions() as session:
        updates = [e for e in list_audit(session).items if e.action == "integration.updated"]
    assert len(updates) == 2  # the refused edit left no entry
    assert "api_key" not in updates[0].details["settings"]  # left empty: kept, not changed
    assert CREDS.infobip_api_key not in str(updates)


def test_testing_the_connection_records_and_shows_the_provider_answer(
    pages: Pages, sandbox: ProcessSandbox
) -> None:
    good = add_sms(pages, sandbox.base_url)
    response = post_form(pages.member, f"/integrations/{good}/test")
    assert response.headers["location"] == f"/integrations/{good}?notice=checked"
    page = pages.member.get(response.headers["location"], headers=PAGE).text
    assert 'data-status="healthy"' in page and "connected" in page
    bad = add_sms(pages, sandbox.base_url, name="Wrong key", api_key="a-wrong-infobip-key")
    post_form(pages.member, f"/integrations/{bad}/test")
    page = pages.member.get(f"/integrations/{bad}", headers=PAGE).text
    assert 'data-status="unhealthy"' in page
    reason = re.search(r'id="health-reason">([^<]+)<', page)
    assert reason and "UNAUTHORIZED (HTTP 401)" in reason.group(1)
    assert "a-wrong-infobip-key" not in page
