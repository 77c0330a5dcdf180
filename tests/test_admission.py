"""Admission: a worker runs at most so many requests at once, in arrival order; health checks
are never queued behind a rush."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from litestar import Litestar, get

from shopd.config import Settings
from shopd.db import Database
from shopd.server.admission import admission
from shopd.server.app import create_app
from tests.conftest import SmallCatalog


class Held:
    """An app whose requests wait until released, counting how many run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        self.started.append(scope["path"])
        try:
            if not scope["path"].startswith("/healthz"):
                await self.release.wait()
        finally:
            self.running -= 1


def http(path: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "method": "GET", "headers": []}


async def test_at_most_the_limit_run_and_the_rest_start_in_arrival_order() -> None:
    inner = Held()
    app = admission(2)(inner)
    calls = []
    for n in range(5):
        calls.append(asyncio.create_task(app(http(f"/p/{n}"), None, None)))
        await asyncio.sleep(0)  # they arrive one after another
    await asyncio.sleep(0.05)
    assert inner.started == ["/p/0", "/p/1"] and inner.running == 2
    # The queue is full, yet a health check goes straight in.
    await asyncio.wait_for(app(http("/healthz"), None, None), timeout=1)
    inner.release.set()
    await asyncio.wait_for(asyncio.gather(*calls), timeout=5)
    assert inner.started == ["/p/0", "/p/1", "/healthz", "/p/2", "/p/3", "/p/4"]
    assert inner.most == 3  # the two admitted and the health check


async def test_zero_is_no_limit() -> None:
    inner = Held()
    app = admission(0)(inner)
    calls = [asyncio.create_task(app(http(f"/p/{n}"), None, None)) for n in range(40)]
    await asyncio.sleep(0.05)
    assert inner.running == 40
    inner.release.set()
    await asyncio.gather(*calls)


async def test_a_shop_limited_to_one_request_at_a_time_serves_a_crowd(
    db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    app = create_app(settings.model_copy(update={"max_concurrent_requests": 1}), database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://shop.test"
    ) as c:
        pages = [c.get(f"/api/v1/products/{catalog.tshirt}") for _ in range(10)]
        pages += [c.get("/"), c.get("/readyz")]
        answers = await asyncio.gather(*pages)
    assert [r.status_code for r in answers] == [200] * 12
    assert all(r.json()["slug"] == catalog.tshirt for r in answers[:10])


async def test_the_limit_is_the_workers_across_all_routes() -> None:
    # Litestar wraps each route in its own copy of the middleware stack.
    running, most = 0, 0
    release = asyncio.Event()

    async def hold() -> str:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await release.wait()
        finally:
            running -= 1
        return "ok"

    @get("/a")
    async def route_a() -> str:
        return await hold()

    @get("/b")
    async def route_b() -> str:
        return await hold()

    app = Litestar([route_a, route_b], middleware=[admission(2)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        calls = [asyncio.create_task(c.get(path)) for path in ("/a", "/b", "/a", "/b")]
        await asyncio.sleep(0.1)
        assert running == 2
        release.set()
        answers = await asyncio.gather(*calls)
    assert [r.status_code for r in answers] == [200] * 4 and most == 2
