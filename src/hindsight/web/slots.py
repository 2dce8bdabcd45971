"""At most N requests at a time hold database connections in one process, and one of them
writes; the rest wait.

Handlers run on the event loop and keep their transaction's connection while they await work
on a thread (Markdown, reports, imports). Without a bound, a burst of requests checks out
every pooled connection, the next one blocks the loop itself in the pool's queue, and the
requests holding the connections can never resume to give them back: every request then waits
for the pool's 30 s timeout (bench/web at 100,000 incidents answered nothing under 20
connections). Waiting here is an `await`, so the loop stays free to finish the requests ahead.

Requests that may write (any method but GET, HEAD and OPTIONS) also go one at a time. A
writer's transaction takes SQLite's write lock (PostgreSQL: the incident's row lock) at its
first statement and keeps it while the handler awaits a thread (an evidence import, a password
hash at login); a second writer that started meanwhile waited for that lock on the loop itself
(SQLite's busy timeout, 30 s), so the first could not resume to commit: the process stalled
and the second write failed as "database is locked". Waiting for the writer gate is an
`await` instead. Writers in other processes still wait in the database, which is safe: the
process holding the lock has a free loop and commits.

A request uses at most two connections at once (its transaction, plus a short lookup of the
signed-in account or the session of work it hands to a thread), so `slots_for` gives the
requests half of the pool, less one connection for the loop's own short lookups.
"""

from __future__ import annotations

import asyncio
import weakref

from starlette.types import ASGIApp, Receive, Scope, Send

UNBOUNDED_PATHS = ("/static/", "/healthz")  # no transaction of the request's own
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Writes that keep no transaction open across an await, so need not take turns: a sign-in
# reads, hashes the password on a thread, then writes, each in a short transaction of its own
# (and sign-ins waiting for the hasher must not hold up every other write).
UNGATED_WRITES = frozenset({"/login"})


def slots_for(pool_capacity: int) -> int:
    """How many requests may hold connections at once from a pool of `pool_capacity`."""
    return max(1, (pool_capacity - 1) // 2)


class DatabaseSlotsMiddleware:
    """ASGI middleware: at most `slots` HTTP requests run at once; the others queue in order."""

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.slots = slots
        # One pair per event loop: a test client runs each block on a loop of its own.
        self._gates: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[asyncio.Semaphore, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def _gates_of_loop(self) -> tuple[asyncio.Semaphore, asyncio.Lock]:
        loop = asyncio.get_running_loop()
        gates = self._gates.get(loop)
        if gates is None:
            gates = self._gates[loop] = (asyncio.Semaphore(self.slots), asyncio.Lock())
        return gates

    def _gate(self) -> asyncio.Semaphore:
        return self._gates_of_loop()[0]

    def _writer(self) -> asyncio.Lock:
        return self._gates_of_loop()[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNBOUNDED_PATHS):
            await self.app(scope, receive, send)
            return
        if scope["method"] in READING_METHODS or scope["path"] in UNGATED_WRITES:
            async with self._gate():
                await self.app(scope, receive, send)
            return
        async with self._writer(), self._gate():  # the writer gate first: a waiter holds no slot
            await self.app(scope, receive, send)
