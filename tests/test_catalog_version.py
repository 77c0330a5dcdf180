"""The catalog version: what product pages show is kept long, and a change made anywhere (staff
API, TUI, a shopctl command) reaches every worker once it has looked at the version."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import select

from shopd.catalog.cache import CatalogCache
from shopd.catalog.cache import version as changes
from shopd.catalog.cache.version import CatalogWatch
from shopd.catalog.models import Product
from shopd.config import Settings
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.server.app import create_app
from tests.conftest import Backend, SmallCatalog, checkout_body
from tests.server import free_port, running, shopctl
from tests.staffkit import make_staff

SHORT = 0.5  # the stock-bearing cache
LONG = 300.0  # what a product shows besides stock


async def version(db: Database) -> int:
    async with db.read() as session:
        found = await changes.current(session)
    assert found is not None
    return found


@asynccontextmanager
async def worker(
    backend: Backend, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, CatalogWatch]]:
    """One worker with both caches on and its catalog watch, which the test turns by hand."""
    db = Database(backend.url)
    cache = CatalogCache(db, short_seconds=SHORT, ranking_seconds=60, product_seconds=LONG)
    app = create_app(settings, database=db, catalog_cache=cache)
    watch = CatalogWatch(cache, every_seconds=1)
    await watch.check()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://shop.test"
        ) as c:
            yield c, watch
    finally:
        await db.dispose()


async def test_orders_leave_the_version_and_catalog_changes_move_it(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    staff = await make_staff(client, db)
    before = await version(db)
    # What a campaign does all day moves stock and sales counters, not the catalog.
    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 2})
    assert r.status_code == 200, r.text
    assert (await client.post("/api/v1/orders", json=checkout_body())).status_code == 201
    r = await client.post(
        f"/api/v1/staff/stock/{catalog.sku_pot}/adjustments",
        json={"delta": 4, "reason": "found"},
        headers=staff.manager,
    )
    assert r.status_code == 201, r.text
    assert await version(db) == before
    # A price change does.
    r = await client.put(
        f"/api/v1/staff/products/{catalog.tshirt}/price",
        json={"price": 6900},
        headers=staff.manager,
    )
    assert r.status_code == 200, r.text
    moved = await version(db)
    assert moved > before
    # A change rolled back takes its bump with it.
    async with db.write() as session:
        product = await session.scalar(select(Product).where(Product.slug == catalog.teapot))
        assert product is not None
        product.name = "改了又撤"
        await session.flush()
        await session.rollback()
    assert await version(db) == moved
    # A change to something else in the same session does not count.
    async with db.write() as session:
        customer = Customer(email="v@example.com", name="V", password_hash="x")
        session.add(customer)
        await session.commit()
    assert await version(db) == moved


async def test_a_change_made_outside_the_server_reaches_every_worker_at_its_next_look(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    url = f"/api/v1/products/{catalog.tshirt}"
    async with worker(backend, settings) as (a, watch_a), worker(backend, settings) as (b, _):
        assert (await a.get(url)).json()["name"] == "纯棉圆领T恤"
        assert (await b.get(url)).json()["name"] == "纯棉圆领T恤"
        # As the TUI or a shopctl command would: the services, straight on the database.
        async with db.write() as session:
            product = await session.scalar(select(Product).where(Product.slug == catalog.tshirt))
            assert product is not None
            product.name = "有机棉T恤"
            await session.commit()
        await asyncio.sleep(SHORT + 0.1)
        # Past the short cache the name still comes from the long-kept part ...
        assert (await a.get(url)).json()["name"] == "纯棉圆领T恤"
        assert "纯棉圆领T恤" in (await a.get(f"/p/{catalog.tshirt}?lang=zh")).text
        # ... until the worker looks at the version.
        assert await watch_a.check() is True
        assert (await a.get(url)).json()["name"] == "有机棉T恤"
        assert "有机棉T恤" in (await a.get(f"/p/{catalog.tshirt}?lang=zh")).text
        assert await watch_a.check() is False  # nothing moved since


async def test_a_staff_change_reaches_both_workers_of_a_running_server(
    backend: Backend, tmp_path: Path
) -> None:
    env = {"SHOPD_DATABASE_URL": backend.url, "SHOPD_DATA_DIR": str(tmp_path)}
    env["SHOPD_BACKGROUND_JOBS"] = "false"
    assert shopctl("db", "upgrade", env=env).returncode == 0
    assert shopctl("db", "seed-demo", "--products", "12", env=env).returncode == 0
    added = shopctl("staff", "add", "pricer", "--role", "manager", env=env)
    assert added.returncode == 0, added.stderr
    password = added.stdout.split("password:")[1].split()[0]
    port = free_port()
    args = ("serve", "--port", str(port), "--workers", "2", "--log-level", "warning")

    async def prices_shown(slug: str) -> set[int]:
        """What 20 fresh connections are told; the kernel spreads them over both workers."""
        seen = set()
        for _ in range(20):
            async with httpx.AsyncClient(base_url=base, timeout=30) as other:
                seen.add((await other.get(f"/api/v1/products/{slug}")).json()["list_price"])
        return seen

    with running(*args, env=env, cwd=tmp_path, port=port) as (base, _, _):
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            slug = (await c.get("/api/v1/products")).json()["items"][0]["slug"]
            price = (await c.get(f"/api/v1/products/{slug}")).json()["list_price"]
            assert await prices_shown(slug) == {price}  # both workers have it cached now
            r = await c.post(
                "/api/v1/staff/session", json={"username": "pricer", "password": password}
            )
            r = await c.put(
                f"/api/v1/staff/products/{slug}/price",
                json={"price": price + 100},
                headers={"Authorization": f"Bearer {r.json()['token']}"},
            )
            assert r.status_code == 200, r.text
        # Within the watch's second (plus the short cache), every worker shows it.
        deadline = time.monotonic() + 15
        while (seen := await prices_shown(slug)) != {price + 100}:
            assert time.monotonic() < deadline, f"still shown: {seen}"
            await asyncio.sleep(0.5)
