"""At most N requests at a time hold database connections in one process; the rest wait.

Handlers run on the event loop and keep their transaction's connection while they await work
on a thread (Markdown, reports, imports). Without a bound, a burst of requests checks out
every pooled connection, the next one blocks the loop itself in the pool's queue, and the
requests holding the connections can never resume to give them back: every request then waits
for the pool's 30 s timeout (bench/web at 100,000 incidents answered nothing under 20
connections). Waiting here is an `await`, so the loop stays free to finish the requests ahead.

A request uses at most two connections at once (its transaction, plus a short lookup of the
signed-in account or the session of work it hands to a thread), so `slots_for` gives the
requests half of the pool, less one connection for the loop's own short lookups.
"""

from __future__ import annotations

import asyncio
import weakref

from starlette.types import ASGIApp, Receive, Scope, Send

UNBOUNDED_PATHS = ("/static/", "/healthz")  # no transaction of the request's own


def slots_for(pool_capacity: int) -> int:
    """How many requests may hold connections at once from a pool of `pool_capacity`."""
    return max(1, (pool_capacity - 1) // 2)


class DatabaseSlotsMiddleware:
    """ASGI middleware: at most `slots` HTTP requests run at once; the others queue in order."""

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.slots = slots
        # One semaphore per event loop: a test client runs each block on a loop of its own.
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._gates = weakref.WeakKeyDictionary()

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.slots)
        return gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNBOUNDED_PATHS):
            await self.app(scope, receive, send)
            return
        async with self._gate():
            await self.app(scope, receive, send)
