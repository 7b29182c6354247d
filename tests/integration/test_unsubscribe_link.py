"""The one-click unsubscribe link: a page on GET, suppression on POST, nothing for forgeries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from herald.channels.email import sign_unsubscribe_token
from herald.domain.channels import Channel, IntegrationKind
from herald.domain.suppression import SuppressionReason
from herald.services import suppression
from herald.services.container import Herald
from herald.web.app import create_app
from tests.webhook_support import UNSUBSCRIBE_SECRET, add_integration, count_rows, make_herald

ADDRESS = "ana.ruiz@example.org"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@dataclass
class App:
    herald: Herald
    client: TestClient


def _open(herald: Herald) -> Iterator[App]:
    with TestClient(create_app(herald)) as client:
        yield App(herald, client)
    herald.close()


@pytest.fixture
def app(sqlite_url: str, tmp_path: Path) -> Iterator[App]:
    herald = make_herald(sqlite_url, tmp_path)
    add_integration(herald, IntegrationKind.EMAIL_SMTP)
    yield from _open(herald)


@pytest.fixture
def app_on_each_backend(database_url: str, tmp_path: Path) -> Iterator[App]:
    herald = make_herald(database_url, tmp_path)
    add_integration(herald, IntegrationKind.EMAIL_SMTP)
    yield from _open(herald)


def _token(list_id: str = "42", secret: str = UNSUBSCRIBE_SECRET) -> str:
    return sign_unsubscribe_token(ADDRESS, list_id, secret)


def _suppressed(herald: Herald, channel: Channel = Channel.EMAIL) -> bool:
    with herald.sessions() as session:
        return suppression.is_suppressed(session, ADDRESS, channel)


def test_the_link_shows_a_confirmation_page_and_changes_nothing(app: App) -> None:
    for _ in range(3):  # link scanners and prefetchers may open it several times
        response = app.client.get(f"/u/{_token()}")
        assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    page = response.text
    assert "a•••@example.org" in page and ADDRESS not in page
    assert '<form method="post">' in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert not _suppressed(app.herald)
    assert count_rows(app.herald) == (0, 0)


def test_one_click_post_suppresses_the_address_everywhere(app_on_each_backend: App) -> None:
    app = app_on_each_backend
    response = app.client.post(f"/u/{_token()}", data=ONE_CLICK)
    assert response.status_code == 200
    assert "will receive no more email" in response.text
    assert _suppressed(app.herald)
    assert _suppressed(app.herald, Channel.SMS)  # an opt-out counts on every channel
    with app.herald.sessions() as session:
        [entry] = suppression.list_suppressions(session).items
    assert entry.reason is SuppressionReason.ONE_CLICK_UNSUBSCRIBE
    assert (entry.address, entry.channel, entry.source_campaign_id) == (ADDRESS, Channel.EMAIL, 42)


def test_one_click_post_may_be_multipart_and_repeated(app: App) -> None:
    token = _token("spring-sale")
    for _ in range(3):
        response = app.client.post(f"/u/{token}", files={"List-Unsubscribe": (None, "One-Click")})
        assert response.status_code == 200, response.text
    assert count_rows(app.herald) == (0, 1)
    with app.herald.sessions() as session:
        [entry] = suppression.list_suppressions(session).items
    assert entry.source_campaign_id is None  # a named list is not a campaign id


def test_links_of_an_inactive_integration_keep_working(app: App) -> None:
    with app.herald.sessions() as session:
        [integration] = app.herald.integrations.list(session)
        app.herald.integrations.update(session, integration.id, is_active=False)
    assert app.client.post(f"/u/{_token()}", data=ONE_CLICK).status_code == 200
    assert _suppressed(app.herald)


def _tampered(token: str) -> str:
    flipped = "a" if token[10] != "a" else "b"
    return token[:10] + flipped + token[11:]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_tampered(_token()), id="tampered"),
        pytest.param(_token(secret="another-unsubscribe-secret-000"), id="other-secret"),
        pytest.param("not-a-token", id="garbage"),
        pytest.param("a" * 2000, id="too-long"),
    ],
)
def test_invalid_links_change_nothing(app: App, token: str) -> None:
    page = app.client.get(f"/u/{token}")
    post = app.client.post(f"/u/{token}", data=ONE_CLICK)
    for response in (page, post):
        assert response.status_code == 404
        assert "not valid" in response.text
        assert response.headers["content-type"].startswith("text/html")
    assert count_rows(app.herald) == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty"),
        pytest.param({"List-Unsubscribe": "Yes"}, id="other-value"),
        pytest.param({"unsubscribe": "One-Click"}, id="other-field"),
    ],
)
def test_a_post_without_the_one_click_body_is_refused(app: App, body: dict[str, str]) -> None:
    response = app.client.post(f"/u/{_token()}", data=body)
    assert response.status_code == 400
    assert "List-Unsubscribe=One-Click" in response.text
    assert count_rows(app.herald) == (0, 0)


def test_a_post_with_a_huge_body_is_refused(app: App) -> None:
    response = app.client.post(f"/u/{_token()}", data={"List-Unsubscribe": "x" * 100_000})
    assert response.status_code == 413
    assert count_rows(app.herald) == (0, 0)
