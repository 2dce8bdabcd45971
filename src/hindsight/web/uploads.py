"""Evidence uploads kept between preview and import: one folder per upload, removed when the
import completes or is cancelled, and swept when stale — when the app starts and every few
minutes while it runs.

Several processes may share the folder and sweep it at once: removal ignores what another
process removed first, and an upload is only ever stale by its age, so no lock is needed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI

SWEEP_EVERY_SECONDS = 300.0


def sweep_uploads(folder: Path, max_age_seconds: float, now: float | None = None) -> int:
    """Remove uploads older than `max_age_seconds`; returns how many were removed."""
    stale = (time.time() if now is None else now) - max_age_seconds
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:  # no uploads yet
        return 0
    for entry in entries:
        try:
            if entry.stat().st_mtime < stale:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except OSError:  # removed by another process meanwhile
            continue
    return removed


def remove_upload(path: Path) -> None:
    """Forget one upload (its file and folder)."""
    shutil.rmtree(path.parent if path.is_file() else path, ignore_errors=True)


async def _sweep_forever(folder: Path, max_age_seconds: float, every: float) -> None:
    while True:
        await anyio.to_thread.run_sync(sweep_uploads, folder, max_age_seconds)
        await anyio.sleep(every)


def upload_sweeper(
    folder: Path, max_age_seconds: float
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """An app lifespan that sweeps stale uploads at start-up and periodically after."""
    every = min(SWEEP_EVERY_SECONDS, max_age_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_sweep_forever, folder, max_age_seconds, every)
            yield
            tasks.cancel_scope.cancel()

    return lifespan
