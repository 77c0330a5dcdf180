"""Admission: at most so many requests of a worker run at once; the rest wait their turn.

Under a rush every admitted request adds its steps to the event loop's queue, and each of a
request's awaits then waits behind all the others' steps. With hundreds admitted, a unit of
work that holds a row lock (MariaDB) or the write lock (SQLite) holds it across that whole
queue, and everyone behind it waits longer. Letting a bounded number in, first come first
served, keeps the loop's queue short: the same CPU serves the same requests, but each runs
start to finish quickly and locks are held for milliseconds.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable

from litestar.types import ASGIApp, Receive, Scope, Send

# Cheap and needed to see the shop's state while it is under a rush.
NOT_QUEUED = ("/healthz", "/readyz", "/metrics", "/static/")


def admission(limit: int) -> Callable[[ASGIApp], ASGIApp]:
    # Litestar wraps each route handler in its own copy of the middleware stack, so the semaphore
    # lives here, shared by every route: the limit is the worker's, not each route's. (Kept per
    # route, the slowest route filled its own 32 and queued for seconds while the rest ran.)
    # One per event loop: a test or a command may run several in turn over one app.
    slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
        weakref.WeakKeyDictionary()
    )

    def middleware(app: ASGIApp) -> ASGIApp:
        if limit <= 0:
            return app

        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"].startswith(NOT_QUEUED):
                await app(scope, receive, send)
                return
            loop = asyncio.get_running_loop()
            slot = slots.get(loop)
            if slot is None:
                slot = slots[loop] = asyncio.Semaphore(limit)
            async with slot:
                await app(scope, receive, send)

        return handle

    return middleware
