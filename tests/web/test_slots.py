"""A burst of page views larger than the connection pool: every one is answered.

Handlers keep their transaction's connection while they await work on a thread (the page's
Markdown). Before web/slots.py, the request that found the pool empty blocked the event loop
in the pool's queue, the requests holding connections could never resume, and every request
waited for the pool timeout (bench/web at 100,000 incidents: no answer at all under 20
connections). Here the pool holds 3 connections and 12 page views arrive at once.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from hindsight.config import Settings
from hindsight.services.accounts import create_token, list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem
from hindsight.storage.db import make_engine, make_sessionmaker, pool_capacity
from hindsight.web.app import create_app
from hindsight.web.slots import DatabaseSlotsMiddleware, slots_for
from tests.factories import make_postmortem
from tests.web.conftest import PASSWORD

BURST = 12


def _small_pool(database: Database) -> Database:
    """The same database behind a pool of 1 + 2 connections."""
    engine = make_engine(database.engine.url, pool_size=1, max_overflow=2)
    return Database(engine, make_sessionmaker(engine), make_sessionmaker(engine, read_only=True))


async def _sign_in(client: httpx.AsyncClient) -> str:
    """Sign in as the owner; the CSRF token of the session."""
    login = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert token
    signed_in = await client.post(
        "/login", data={"username": "owner", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert signed_in.status_code == 303, signed_in.text[:300]
    page = await client.get("/")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


async def _burst(app: object, key: str) -> list[int]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await _sign_in(client)
        pages = [client.get(f"/incidents/{key}") for _ in range(BURST)]
        answers = await asyncio.wait_for(asyncio.gather(*pages), timeout=60)
    return [answer.status_code for answer in answers]


def test_a_burst_larger_than_the_pool_is_answered(app_database: Database, tmp_path: Path) -> None:
    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        create_postmortem(session, postmortem=make_postmortem(), author="owner", actor=owner)
    small = _small_pool(app_database)
    assert pool_capacity(small.engine) == 3
    settings = Settings(
        database_url="unused://", admin_password="admin password 1", data_dir=tmp_path
    )
    app = create_app(settings, small)
    try:
        statuses = asyncio.run(_burst(app, make_postmortem().key))
    finally:
        small.dispose()
    assert statuses == [200] * BURST


@pytest.mark.parametrize(("capacity", "slots"), [(30, 14), (3, 1), (1, 1), (15, 7)])
def test_requests_get_half_the_pool_less_one(capacity: int, slots: int) -> None:
    assert slots_for(capacity) == slots


def test_static_files_and_health_checks_are_not_queued() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        seen.append(str(scope["path"]))

    gate = DatabaseSlotsMiddleware(app, slots=1)  # type: ignore[arg-type]

    async def main() -> None:
        held = gate._gate()
        await held.acquire()  # every slot taken by a request in progress
        for path in ("/static/hindsight.css", "/healthz"):
            scope = {"type": "http", "path": path, "method": "GET"}
            await asyncio.wait_for(gate(scope, None, None), 1)  # type: ignore[arg-type]
        page = {"type": "http", "path": "/", "method": "GET"}
        queued = asyncio.create_task(gate(page, None, None))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        assert seen == ["/static/hindsight.css", "/healthz"]  # the page waits for a slot
        held.release()
        await asyncio.wait_for(queued, 1)

    asyncio.run(main())
    assert seen[-1] == "/"


def test_a_write_waits_for_a_writer_that_is_awaiting_a_thread(
    app_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An evidence import holds the write lock (SQLite) or the incident's row (PostgreSQL) on a
    thread while its handler awaits; an API edit arriving meanwhile ran on the loop and waited
    for that lock there, so the import could never commit (30 s, then 'database is locked' on
    SQLite; for ever on PostgreSQL). Both now succeed, one after the other."""
    from starlette.concurrency import run_in_threadpool

    import hindsight.web.routes.imports as imports_routes

    with app_database.transaction() as session:
        owner = next(a for a, _ in list_users(session) if a.username == "owner")
        stored = create_postmortem(
            session, postmortem=make_postmortem(), author="owner", actor=owner
        )
        token = create_token(session, actor=owner, name="test")
    key = stored.postmortem.key
    upload = tmp_path / "alerts.json"
    upload.write_text("{}")
    thread_started = threading.Event()

    async def slow_import(session: Session, key: str, *_: object, **__: object) -> None:
        def run() -> None:  # takes the lock, then works for a while holding it
            session.execute(text("UPDATE incidents SET title = title WHERE key = :k"), {"k": key})
            thread_started.set()
            time.sleep(1.5)

        await run_in_threadpool(run)

    monkeypatch.setattr(imports_routes, "_import_off_the_loop", slow_import)
    monkeypatch.setattr(imports_routes, "_upload_path", lambda request, token: upload)
    settings = Settings(
        database_url="unused://", admin_password="admin password 1", data_dir=tmp_path
    )
    app = create_app(settings, app_database)

    async def main() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            csrf = await _sign_in(client)
            importing = asyncio.create_task(
                client.post(
                    f"/incidents/{key}/evidence/import",
                    data={"upload": "u" * 32, "kind": "alertmanager", "csrf_token": csrf},
                )
            )
            while not thread_started.is_set():
                await asyncio.sleep(0.01)
            edit = client.patch(
                f"/api/v1/incidents/{key}",
                json={"version": stored.version, "set": {"summary": "Edited meanwhile."}},
                headers={"Authorization": f"Bearer {token}"},
            )
            edited = await asyncio.wait_for(edit, timeout=60)
            imported = await asyncio.wait_for(importing, timeout=60)
        return imported.status_code, edited.status_code

    assert asyncio.run(main()) == (303, 200)


def test_writers_go_one_at_a_time_and_readers_pass_them() -> None:
    entered: list[str] = []
    release = asyncio.Event()

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        entered.append(f"{scope['method']} {scope['path']}")
        if scope["path"] == "/first":
            await release.wait()

    gate = DatabaseSlotsMiddleware(app, slots=4)  # type: ignore[arg-type]

    def call(method: str, path: str) -> asyncio.Task[None]:
        scope = {"type": "http", "path": path, "method": method}
        return asyncio.create_task(gate(scope, None, None))  # type: ignore[arg-type]

    async def main() -> None:
        first = call("POST", "/first")
        await asyncio.sleep(0.01)
        second, reader = call("PATCH", "/second"), call("GET", "/reader")
        login = call("POST", "/login")  # signs in in short transactions of its own
        await asyncio.sleep(0.05)
        assert entered == ["POST /first", "GET /reader", "POST /login"]  # PATCH waits
        release.set()
        await asyncio.wait_for(asyncio.gather(first, second, reader, login), 1)
        assert entered[-1] == "PATCH /second"

    asyncio.run(main())
