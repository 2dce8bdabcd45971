"""The access log: one line per request with method, path, status and duration, no secrets."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hindsight.config import Settings
from hindsight.services.database import Database
from hindsight.web.access_log import loggable_target, logger, send_access_log_to
from hindsight.web.app import create_app
from tests.web.conftest import Browser
from tests.web.test_api import _token

Make = Callable[[str | None], Browser]


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "hindsight.access"]


def test_each_request_logs_method_path_status_and_duration(
    browser_for: Make, caplog: pytest.LogCaptureFixture
) -> None:
    client = browser_for(None)
    with caplog.at_level(logging.INFO, logger="hindsight.access"):
        client.get("/healthz?page=2")
        client.get("/no-such-page")
    ok, missing = _lines(caplog)[-2:]
    method, target, status, duration = ok.split(" ")
    assert (method, target, status) == ("GET", "/healthz?page=2", "200")
    assert duration.endswith("ms") and float(duration[:-2]) >= 0
    assert missing.startswith("GET /no-such-page 404 ")


def test_a_token_in_the_query_string_or_the_authorization_header_never_shows_in_the_log(
    browser_for: Make, app_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    client = browser_for("owner")  # signed in: the request carries the session cookie
    headers = _token(app_database, "owner")
    secret = headers["Authorization"].removeprefix("Bearer ")
    cookie = client.cookies.get("hindsight_session")
    assert cookie
    with caplog.at_level(logging.INFO, logger="hindsight.access"):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        client.get(f"/api/v1/incidents?token={secret}&q=dns")
        client.get(f"/healthz?next=/x&password=hunter2hunter2&api_key=k123&v={secret}")
        client.get("/healthz", headers={"Authorization": "Bearer hs_not-a-real-token"})
    lines = _lines(caplog)[-4:]
    text = "\n".join(caplog.text.splitlines() + lines)
    for leaked in (secret, "hunter2hunter2", "k123", "hs_not-a-real-token", "Bearer", cookie):
        assert leaked not in text
    assert lines[0].startswith("GET /api/v1/me 200 ")
    assert lines[1].startswith("GET /api/v1/incidents?token=[redacted]&q=dns 200 ")
    assert "password=[redacted]&api_key=[redacted]&v=[redacted]" in lines[2]


def test_a_line_break_in_the_path_cannot_forge_a_second_log_line() -> None:
    assert loggable_target("/a\nGET /admin 200", b"") == "/a%0AGET%20/admin%20200"
    assert "\n" not in loggable_target("/", b"q=a%0Ab")


def test_the_access_log_can_be_turned_off(
    app_database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        database_url="unused://", data_dir=tmp_path, admin_password="admin password 1"
    )
    quiet = create_app(settings.model_copy(update={"access_log": False}), app_database)
    with TestClient(quiet) as client, caplog.at_level(logging.INFO, logger="hindsight.access"):
        assert client.get("/healthz").status_code == 200
    assert _lines(caplog) == []


def test_serve_sends_the_access_log_to_its_stream_once() -> None:
    stream = io.StringIO()
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        send_access_log_to(stream)
        send_access_log_to(stream)
        logger.info("GET / 200 1.0ms")
        assert stream.getvalue().count("GET / 200 1.0ms") == 1
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
