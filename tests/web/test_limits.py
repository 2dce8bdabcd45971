"""Limits before work (issue 10, findings 2, 3, 8 and 12): request bodies are bounded per route
while they stream in, hooks check their token before reading, multipart forms are checked
before they are spooled, Markdown renders off the event loop, and preview uploads are swept."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from hindsight.config import Settings
from hindsight.services import prose
from hindsight.services.database import Database
from hindsight.services.demo import load_demo
from hindsight.services.imports import create_hook_token
from hindsight.web.app import create_app
from hindsight.web.limits import BodyLimitMiddleware, BodyLimits
from tests.web.conftest import Browser

DEMO = "2018-01-18-reddit-hugs-mybinder"
GIT = (
    Path(__file__).parent.parent / "data" / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl"
)
MIB = 1024 * 1024
Make = Callable[[str | None], Browser]
LIMITS = BodyLimits(form=64 * 1024, json=128 * 1024, hook=32 * 1024, upload=1 * MIB)


class Feed:
    """A lazily generated request body that counts how much of it the server took."""

    def __init__(self, total: int, chunk: int = 64 * 1024, head: bytes = b"") -> None:
        self.total, self.chunk, self.head = total, chunk, head
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        if self.head:
            self.sent += len(self.head)
            yield self.head
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"x" * self.chunk


# -- the middleware on its own -----------------------------------------------------------------


async def _reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, then answers 200 with its length."""
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


def _drive(
    path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[list[Message], int]:
    """Run the middleware around `_reading_app`; returns what it sent and chunks it read."""
    sent: list[Message] = []
    taken = 0

    async def receive() -> Message:
        nonlocal taken
        taken += 1
        return {"type": "http.request", "body": chunks[taken - 1], "more_body": taken < len(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    asyncio.run(BodyLimitMiddleware(_reading_app, LIMITS)(scope, receive, send))
    return sent, taken


def test_finding_2_a_declared_content_length_past_the_route_limit_is_refused_unread() -> None:
    headers = [(b"content-length", str(1 << 30).encode())]
    sent, taken = _drive("/api/v1/hooks/alertmanager/x", [b""], headers)
    assert taken == 0
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    body = json.loads(sent[1]["body"])
    assert body == {
        "error": {"message": "The request is larger than the 32 KiB limit for a webhook delivery."}
    }


def test_finding_2_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    chunks = [b"x" * 16 * 1024] * 100  # 1.6 MB without a Content-Length
    sent, taken = _drive("/api/v1/incidents", chunks, [])
    assert taken == 9  # 9 times 16 KiB is the first count past 128 KiB; nothing more was read
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]


def test_limits_are_chosen_by_route_and_bodies_under_them_pass() -> None:
    assert LIMITS.for_path("/api/v1/hooks/alertmanager/k")[0] == 32 * 1024
    assert LIMITS.for_path("/api/v1/incidents/k")[0] == 128 * 1024
    assert LIMITS.for_path("/incidents/k/evidence/preview")[0] == MIB
    assert LIMITS.for_path("/login")[0] == 64 * 1024
    sent, _ = _drive("/incidents/k/evidence/preview", [b"x" * 512 * 1024, b"y" * 400_000], [])
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"924288"


def test_html_routes_answer_413_with_a_page_and_htmx_with_a_fragment() -> None:
    declared = (b"content-length", str(MIB).encode())
    page, _ = _drive("/login", [b""], [declared])
    assert b"Too large" in page[1]["body"] and b"64 KiB limit for a form" in page[1]["body"]
    fragment, _ = _drive("/login", [b""], [declared, (b"hx-request", b"true")])
    assert fragment[1]["body"].startswith(b'<p class="error" role="alert">')
    upload, _ = _drive("/incidents/k/evidence/preview", [b""], [(b"content-length", b"2000000")])
    assert b"hindsight import-evidence" in upload[1]["body"]


# -- the application ---------------------------------------------------------------------------


@pytest.fixture
def demo(app_database: Database) -> str:
    with app_database.transaction() as session:
        load_demo(session, author="demo")
        return create_hook_token(session, key=DEMO, author="owner")


def _stream(client: Browser, path: str, feed: Feed, **headers: str) -> tuple[int, str]:
    """POST `feed` to the client's app as a real server would deliver it: chunk by chunk,
    only when the app asks (the test client would read the whole body first)."""
    chunks = iter(feed)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    scope: Scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode()), *raw],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        chunk = next(chunks, None)
        return {"type": "http.request", "body": chunk or b"", "more_body": chunk is not None}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(client.app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body.decode()


def test_finding_2_a_hook_delivery_without_its_token_is_refused_before_its_body_is_read(
    browser_for: Make, demo: str
) -> None:
    client = browser_for(None)
    url = f"/api/v1/hooks/alertmanager/{DEMO}"
    feed = Feed(1 << 30)  # 1 GiB, chunked: no Content-Length to refuse it by
    status, body = _stream(client, url, feed, authorization="Bearer hk_wrong")
    assert status == 403 and feed.sent == 0
    assert json.loads(body)["error"]["message"] == "unknown or revoked hook token for this incident"
    streamed = Feed(1 << 30)
    status, body = _stream(client, url, streamed, authorization=f"Bearer {demo}")
    assert status == 413 and streamed.sent <= MIB + streamed.chunk
    assert "1 MiB limit for a webhook delivery" in json.loads(body)["error"]["message"]
    declared = client.post(
        url, content=b"{" * (MIB + 1), headers={"Authorization": f"Bearer {demo}"}
    )
    assert declared.status_code == 413
    api = client.post("/api/v1/incidents", content=b" " * (2 * MIB + 1))
    assert api.status_code == 413 and "2 MiB limit for an API request" in api.text
    json_body = Feed(1 << 30)
    status, body = _stream(client, "/api/v1/incidents", json_body, content_type="application/json")
    assert status == 413 and json_body.sent <= 2 * MIB + json_body.chunk
    assert json.loads(body)["error"]["message"].endswith("limit for an API request.")


def _multipart(fields: list[tuple[str, str]], file_size: int) -> tuple[Feed, str]:
    boundary = "hindsightboundary42"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="big.log"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return Feed(file_size, head=head), f"multipart/form-data; boundary={boundary}"


def test_finding_8_multipart_bodies_are_checked_for_session_and_csrf_before_spooling(
    browser_for: Make, demo: str
) -> None:
    url = f"/incidents/{DEMO}/evidence/preview"
    anonymous = browser_for(None)  # has a CSRF token from the login page, but no account
    feed, kind = _multipart([("csrf_token", anonymous.csrf), ("kind", "git")], 1 << 30)
    status, _ = _stream(anonymous, url, feed, content_type=kind)
    assert status == 303 and feed.sent <= len(feed.head)  # to the login page, body unread
    owner = browser_for("owner")
    owner.page(f"/incidents/{DEMO}")
    late, kind = _multipart([("kind", "git"), ("csrf_token", owner.csrf)], 1 << 30)
    status, body = _stream(owner, url, late, content_type=kind)
    assert status == 403 and "did not come from Hindsight" in body
    assert late.sent <= 64 * 1024 + late.chunk
    login, kind = _multipart([("csrf_token", anonymous.csrf)], 1 << 30)
    status, body = _stream(anonymous, "/login", login, content_type=kind)
    assert status == 413 and "1 MiB limit for a form" in body
    assert login.sent <= MIB + login.chunk
    with GIT.open("rb") as handle:  # the real form (token first) still works
        preview = owner.post(
            url,
            data={"csrf_token": owner.csrf, "kind": "git"},
            files={"file": (GIT.name, handle, "application/octet-stream")},
        )
    assert preview.status_code == 200 and 'name="upload"' in preview.text


def test_finding_3_a_comment_past_20000_characters_is_refused_with_its_length(
    browser_for: Make, demo: str
) -> None:
    owner = browser_for("owner")
    owner.page(f"/incidents/{DEMO}")
    response = owner.submit(f"/incidents/{DEMO}/comments/overview", {"body": "a" * 20_001})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "at most 20,000 characters (this one has 20,001)" in response.text  # type: ignore[attr-defined]


def test_finding_3_markdown_is_rendered_on_a_worker_thread_once_per_text(
    browser_for: Make, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = browser_for("owner")
    owner.page(f"/incidents/{DEMO}")
    owner.submit(f"/incidents/{DEMO}/comments/impact", {"body": "A *unique* remark 7f3"})
    renders: list[tuple[str, bool]] = []
    original = prose.markdown_to_html

    def spy(text: str, *, images: bool = True, image_hosts: Sequence[str] = ()) -> str:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        renders.append((text, on_loop))
        return original(text, images=images, image_hosts=image_hosts)

    prose.clear_prose_cache()
    monkeypatch.setattr(prose, "markdown_to_html", spy)
    first = owner.page(f"/incidents/{DEMO}")
    assert "A <em>unique</em> remark 7f3" in first
    assert renders and not any(on_loop for _, on_loop in renders)
    rendered = len(renders)
    owner.page(f"/incidents/{DEMO}")
    assert len(renders) == rendered  # the second view comes from the cache


def test_finding_12_a_preview_forgets_its_upload_when_cancelled_or_when_nothing_is_new(
    browser_for: Make, demo: str, tmp_path: Path
) -> None:
    owner = browser_for("owner")
    owner.page(f"/incidents/{DEMO}")

    def preview() -> str:
        with GIT.open("rb") as handle:
            response = owner.post(
                f"/incidents/{DEMO}/evidence/preview",
                data={"csrf_token": owner.csrf, "kind": "git"},
                files={"file": (GIT.name, handle, "application/octet-stream")},
            )
        return response.text

    text = preview()
    token = text.split('name="upload" value="')[1].split('"')[0]
    assert 'formaction="/incidents/' in text and (tmp_path / "uploads" / token).is_dir()
    cancelled = owner.submit(f"/incidents/{DEMO}/evidence/cancel", {"upload": token})
    assert cancelled.status_code == 303  # type: ignore[attr-defined]
    assert not (tmp_path / "uploads" / token).exists()
    token = preview().split('name="upload" value="')[1].split('"')[0]
    owner.submit(f"/incidents/{DEMO}/evidence/import", {"upload": token, "kind": "git"})
    assert not (tmp_path / "uploads" / token).exists()
    assert "Nothing new to add" in preview()  # the same file again
    assert list((tmp_path / "uploads").iterdir()) == []


def test_finding_12_stale_uploads_are_swept_when_the_app_starts(
    app_database: Database, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    stale, fresh = uploads / "stale-upload-token-1", uploads / "fresh-upload-token-1"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "export.json").write_text("{}")
    hour_ago = time.time() - 3601
    os.utime(stale, (hour_ago, hour_ago))
    settings = Settings(database_url="unused://", data_dir=tmp_path, upload_lifetime_minutes=60)
    with TestClient(create_app(settings, app_database)) as client:
        assert client.get("/healthz").status_code == 200
        assert not stale.exists() and fresh.exists()
