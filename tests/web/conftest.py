"""Web fixtures: an app on a fresh database with personas, and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hindsight.config import Settings
from hindsight.domain.access import Role
from hindsight.services.accounts import create_user
from hindsight.services.database import Database
from hindsight.web.app import create_app

PASSWORD = "correct horse battery"
PERSONAS = {
    "owner": Role.EDITOR,
    "teammate": Role.EDITOR,
    "outsider": Role.EDITOR,
    "reader": Role.VIEWER,
    "boss": Role.ADMIN,
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browser(TestClient):
    """A test client that remembers the CSRF token of the last page it loaded."""

    csrf = ""

    def page(self, url: str) -> str:
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code, response.text[:500])
        if "csrf_token" in response.text:
            self.csrf = csrf_of(response.text)
        return response.text

    def submit(self, url: str, data: dict[str, str] | None = None, **kwargs: object) -> object:
        payload = {"csrf_token": self.csrf, **(data or {})}
        return self.post(url, data=payload, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def app_database(fresh_database: Database) -> Database:
    with fresh_database.transaction() as session:
        for name, role in PERSONAS.items():
            create_user(session, username=name, password=PASSWORD, role=role)
    return fresh_database


@pytest.fixture
def browser_for(
    app_database: Database, tmp_path: Path
) -> Iterator[Callable[[str | None], Browser]]:
    settings = Settings(
        database_url="unused://", admin_password="admin password 1", data_dir=tmp_path
    )
    app = create_app(settings, app_database)
    clients: list[Browser] = []

    def make(username: str | None) -> Browser:
        client = Browser(app)
        clients.append(client)
        client.page("/login")
        if username:
            response = client.post(
                "/login",
                data={
                    "username": username,
                    "password": PASSWORD,
                    "csrf_token": client.csrf,
                    "next": "/",
                },
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text[:300]
            client.page("/")
        return client

    yield make
    for client in clients:
        client.close()
