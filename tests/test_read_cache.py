"""The read cache of catalog pages and API answers: shared by anonymous visitors for a moment,
cleared by staff changes on the same worker, never read by anything that sells."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from shopd.catalog.cache import CatalogCache
from shopd.catalog.cache.read_cache import Fresh, ReadCache, own_writes
from shopd.catalog.cache.responses import CachedResponses
from shopd.catalog.cache.version import CatalogWatch
from shopd.config import Settings
from shopd.db import Database
from shopd.server.app import create_app
from shopd.web.rendered import CSRF_SLOT, RenderedPages
from tests.conftest import ADDRESS, Backend, SmallCatalog, checkout_body, executed
from tests.staffkit import Staff, make_staff, window

TTL = 1.5


class Loads:
    def __init__(self, value: object = "v") -> None:
        self.value = value
        self.calls = 0

    async def __call__(self) -> object:
        self.calls += 1
        await asyncio.sleep(0.01)
        return self.value


async def test_a_value_is_kept_for_its_seconds_then_loaded_again() -> None:
    cache = ReadCache(0.2)
    load = Loads()
    assert [await cache.get("k", load) for _ in range(3)] == ["v"] * 3
    assert load.calls == 1
    await asyncio.sleep(0.25)
    await cache.get("k", load)
    assert load.calls == 2
    assert (cache.hits, cache.misses) == (2, 2)


async def test_concurrent_misses_share_one_load() -> None:
    cache = ReadCache(5)
    load = Loads()
    assert await asyncio.gather(*(cache.get("k", load) for _ in range(50))) == ["v"] * 50
    assert load.calls == 1


async def test_a_failed_load_reaches_every_waiter_and_is_not_kept() -> None:
    cache = ReadCache(5)
    calls = 0

    async def broken() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise LookupError("no such product")

    results = await asyncio.gather(
        *(cache.get("k", broken) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, LookupError) for r in results)
    assert calls == 1
    with pytest.raises(LookupError):
        await cache.get("k", broken)
    assert calls == 2


async def test_zero_seconds_is_no_cache_and_clear_forgets() -> None:
    off = ReadCache(0)
    load = Loads()
    await off.get("k", load)
    await off.get("k", load)
    assert load.calls == 2 and not off.enabled
    on = ReadCache(5)
    await on.get("k", load)
    on.clear()
    await on.get("k", load)
    assert load.calls == 4


@asynccontextmanager
async def worker(
    backend: Backend, settings: Settings, *, offers: float = 0
) -> AsyncIterator[httpx.AsyncClient]:
    """One shop worker process, as `shopctl serve --workers N` runs several: its own engine and
    its own read cache over the shared database."""
    db = Database(backend.url)
    cache = CatalogCache(
        db, short_seconds=TTL, ranking_seconds=60, product_seconds=300, offer_seconds=offers
    )
    app = create_app(settings, database=db, catalog_cache=cache)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://shop.test"
        ) as c:
            yield c
    finally:
        await db.dispose()


def available(product: dict, sku: str) -> int:
    return next(s["available"] for s in product["skus"] if s["code"] == sku)


def state_of(client: httpx.AsyncClient, key: str) -> Any:
    """What the worker's app keeps in its state under ``key`` (its database, kept pages...)."""
    return client._transport.app.state[key]  # type: ignore[attr-defined]


async def watching(client: httpx.AsyncClient, every: float = 1) -> tuple[Database, CatalogWatch]:
    """The worker's database, and a catalog watch over it that has taken its first look."""
    cached_db: Database = state_of(client, "db")
    watch = CatalogWatch(state_of(client, "catalog_cache"), every)
    await watch.check()
    return cached_db, watch


async def write_off(client: httpx.AsyncClient, staff: Staff, sku: str, units: int) -> None:
    """A manager writes ``units`` of ``sku`` off as damaged: a stock movement in the ledger."""
    r = await client.post(
        f"/api/v1/staff/stock/{sku}/adjustments",
        json={"delta": -units, "reason": "damage"},
        headers=staff.manager,
    )
    assert r.status_code == 201, r.text


async def test_another_workers_stock_change_shows_within_the_ttl_and_carts_see_the_truth(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a, worker(backend, settings) as b:
        staff = await make_staff(b, db)
        url = f"/api/v1/products/{catalog.teapot}"
        assert available((await a.get(url)).json(), catalog.sku_pot) == 3
        await write_off(b, staff, catalog.sku_pot, 3)
        # Worker b cleared its own cache: its next reader sees the change at once.
        assert available((await b.get(url)).json(), catalog.sku_pot) == 0
        # Worker a still shows what it read a moment ago ...
        assert available((await a.get(url)).json(), catalog.sku_pot) == 3
        # ... but selling reads the database: the cart refuses what is gone.
        r = await a.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 1})
        assert r.status_code == 409 and r.json()["error"]["code"] == "out_of_stock"
        await asyncio.sleep(TTL + 0.1)
        assert available((await a.get(url)).json(), catalog.sku_pot) == 0
        assert (
            "售罄" in (await a.get(f"/p/{catalog.teapot}")).text
            or "sold out" in (await a.get(f"/p/{catalog.teapot}?lang=en")).text.lower()
        )


async def test_a_guest_who_just_ordered_sees_the_stock_they_took_on_every_worker(
    backend: Backend, settings: Settings, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a, worker(backend, settings) as b:
        url = f"/api/v1/products/{catalog.teapot}"
        page = f"/p/{catalog.teapot}?lang=en"
        assert available((await a.get(url)).json(), catalog.sku_pot) == 3
        assert "sold out" not in (await a.get(page)).text.lower()
        # The cart is no change to the catalog: the buyer still shares cached reads ...
        r = await b.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 3})
        assert r.status_code == 200 and "shopd_fresh" not in b.cookies
        # Nor is signing up, nor a saved address.
        account = {"email": "mei@example.com", "password": "long-enough-pw"}
        assert (await b.post("/api/v1/customers", json=account)).status_code == 201
        r = await b.post("/api/v1/me/addresses", json=ADDRESS)
        assert r.status_code == 201, r.text
        assert "shopd_fresh" not in b.cookies
        # ... until the order: the buyer's requests then read the database, on whichever worker.
        # (An httpx client per worker, as behind a load balancer; the buyer's cookies go along.)
        r = await b.post("/api/v1/orders", json=checkout_body())
        assert r.status_code == 201, r.text
        a.cookies.update(b.cookies)
        assert available((await a.get(url)).json(), catalog.sku_pot) == 0
        assert "sold out" in (await a.get(page)).text.lower()
        # Another visitor on worker a shares what the buyer's read left there: it is fresh too.
        async with httpx.AsyncClient(
            transport=a._transport, base_url="http://shop.test"
        ) as stranger:
            assert available((await stranger.get(url)).json(), catalog.sku_pot) == 0
        # The mark runs out a moment after the cached entries it has to skip.
        mark = next(c for c in b.cookies.jar if c.name == "shopd_fresh")
        assert mark.expires is not None and 0 < mark.expires - time.time() <= TTL + 2


async def test_a_staff_price_change_shows_at_once_on_the_same_worker(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a:
        staff = await make_staff(a, db)
        url = f"/api/v1/products/{catalog.tshirt}"
        listing = "/api/v1/products?category=t-shirts"
        assert (await a.get(url)).json()["list_price"] == 7900
        assert (await a.get(listing)).json()["items"][0]["price"] == 7900
        cache: CatalogCache = state_of(a, "catalog_cache")
        hits, ranked = cache.short.hits, cache.rankings.misses
        assert (await a.get(url)).json()["list_price"] == 7900
        assert cache.short.hits > hits
        assert cache.rankings.misses == ranked  # suggestions kept longer than the page
        await asyncio.sleep(TTL + 0.1)
        assert (await a.get(url)).json()["list_price"] == 7900
        assert cache.rankings.misses == ranked
        r = await a.put(
            f"/api/v1/staff/products/{catalog.tshirt}/price",
            json={"price": 6900},
            headers=staff.manager,
        )
        assert r.status_code == 200, r.text
        assert (await a.get(url)).json()["list_price"] == 6900
        assert cache.rankings.misses == ranked + 1  # the staff change cleared them too
        assert (await a.get(listing)).json()["items"][0]["price"] == 6900
        assert "69.00" in (await a.get(f"/p/{catalog.tshirt}")).text


async def test_a_search_indexes_once_per_catalog_version_and_reads_stock_per_miss(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a, worker(backend, settings) as b:
        staff = await make_staff(b, db)
        _, watch = await watching(a)
        search = CatalogCache.of(a._transport.app.state).search  # type: ignore[attr-defined]
        url = "/api/v1/products?q=teapot"
        first = (await a.get(url)).json()
        assert [i["slug"] for i in first["items"]] == [catalog.teapot]
        assert first["items"][0]["in_stock"] and search.builds == 1
        # Stock is not the catalog: once the short entry has gone, the same matches are
        # priced and stocked afresh, without indexing the products' words again.
        await write_off(b, staff, catalog.sku_pot, 3)
        await asyncio.sleep(TTL + 0.1)
        again = (await a.get(url)).json()
        assert [i["in_stock"] for i in again["items"]] == [False]
        assert search.builds == 1
        # A catalog change on another worker: within the watch's look the index is built anew.
        r = await b.post(f"/api/v1/staff/products/{catalog.teapot}/delist", headers=staff.manager)
        assert r.status_code == 200, r.text
        assert await watch.check()
        await asyncio.sleep(TTL + 0.1)
        gone = (await a.get(url)).json()
        assert gone["items"] == [] and gone["total"] == 0 and search.builds == 2


def csrf_field(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


async def test_guests_share_one_rendering_of_a_page_each_with_their_own_form_token(
    backend: Backend, settings: Settings, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as first:
        pages: RenderedPages = state_of(first, "pages")
        url = f"/p/{catalog.teapot}?lang=en"
        async with httpx.AsyncClient(
            transport=first._transport, base_url="http://shop.test"
        ) as second:
            one, two = (await first.get(url)).text, (await second.get(url)).text
            assert (pages.misses, pages.hits) == (1, 1)
            # The same page, each with the token of its own browser, never the placeholder.
            tokens = csrf_field(one), csrf_field(two)
            assert tokens[0] != tokens[1] and CSRF_SLOT not in one + two
            assert one.replace(tokens[0], "") == two.replace(tokens[1], "")
            # The kept page's token works: the second guest adds to the cart with it ...
            form = {"_csrf_token": tokens[1], "sku": catalog.sku_pot, "quantity": "1"}
            r = await second.post("/cart/add", data=form)
            assert r.status_code == 303 and r.headers["location"] == "/cart", r.text
            # ... and from then on sees the same kept page with their own cart in the header.
            mine = (await second.get(url)).text
            assert '<span id="cart-count">1</span>' in mine
            assert '<span id="cart-count">0</span>' in (await first.get(url)).text
            assert (pages.misses, pages.hits) == (1, 3)


async def test_a_kept_page_is_rendered_again_when_the_read_cache_loads_anew(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a, worker(backend, settings) as b:
        staff = await make_staff(b, db)
        pages: RenderedPages = state_of(a, "pages")
        url = f"/p/{catalog.teapot}?lang=en"
        assert "sold out" not in (await a.get(url)).text.lower()
        await write_off(b, staff, catalog.sku_pot, 3)
        # Within the read cache's seconds worker a shows the page it kept ...
        assert "sold out" not in (await a.get(url)).text.lower()
        assert (pages.misses, pages.hits) == (1, 1)
        # ... and when the read cache loads the product again, the page is rendered again.
        await asyncio.sleep(TTL + 0.1)
        assert "sold out" in (await a.get(url)).text.lower()
        assert pages.misses == 2


def test_an_answer_is_built_once_per_kept_read() -> None:
    answers, built = CachedResponses(), []

    def build(read: list[int]) -> int:
        built.append(read)
        return sum(read)

    first, second = [1, 2], [1, 2]
    assert answers.get("k", first, build) == answers.get("k", first, build) == 3
    assert built == [first]
    # An equal read loaded anew is another object: its answer is built again.
    assert answers.get("k", second, build) == 3 and len(built) == 2
    assert (answers.hits, answers.misses) == (1, 2)


async def test_api_answers_are_kept_with_their_read_and_built_again_when_it_loads_anew(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a, worker(backend, settings) as b:
        staff = await make_staff(b, db)
        answers: CachedResponses = state_of(a, "catalog_cache").responses
        product, listing = f"/api/v1/products/{catalog.teapot}", "/api/v1/products?q=teapot"
        for _ in range(2):
            assert available((await a.get(product)).json(), catalog.sku_pot) == 3
            assert (await a.get(listing)).json()["items"][0]["in_stock"] is True
        assert (answers.misses, answers.hits) == (2, 2)
        await write_off(b, staff, catalog.sku_pot, 3)
        await asyncio.sleep(TTL + 0.1)
        assert available((await a.get(product)).json(), catalog.sku_pot) == 0
        assert (await a.get(listing)).json()["items"][0]["in_stock"] is False
        assert (answers.misses, answers.hits) == (4, 2)


async def test_own_writes_skip_a_cache_only_as_far_as_their_level_reaches() -> None:
    long_kept, load = ReadCache(60, fresh_at=Fresh.ALL), Loads()
    await long_kept.get("k", load)
    with own_writes(Fresh.MOVING):
        await long_kept.get("k", load)
    assert load.calls == 1
    with own_writes(Fresh.ALL):
        await long_kept.get("k", load)
    assert load.calls == 2


async def test_an_order_refreshes_what_it_moves_for_its_buyer_and_keeps_the_rest_cached(
    backend: Backend, settings: Settings, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a:
        cache: CatalogCache = state_of(a, "catalog_cache")
        page = f"/p/{catalog.teapot}?lang=en"
        assert "sold out" not in (await a.get(page)).text.lower()
        # A refused change changes nothing and marks nothing.
        r = await a.post("/api/v1/orders", json=checkout_body())
        assert r.status_code == 409 and "shopd_fresh" not in a.cookies
        r = await a.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 3})
        assert r.status_code == 200
        r = await a.post("/api/v1/orders", json=checkout_body())
        assert r.status_code == 201 and a.cookies["shopd_fresh"] == "moving"
        shown, moving = cache.products.misses, cache.short.misses
        # The buyer sees the stock they took at once; the texts stay as kept.
        assert "sold out" in (await a.get(page)).text.lower()
        assert cache.short.misses > moving and cache.products.misses == shown


async def test_a_change_on_a_product_page_marks_everything_for_its_author(
    backend: Backend, settings: Settings, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a:
        token = csrf_field((await a.get(f"/p/{catalog.teapot}")).text)
        r = await a.post(f"/p/{catalog.teapot}/reviews", data={"rating": "5", "_csrf_token": token})
        assert r.status_code == 303 and a.cookies["shopd_fresh"] == "all"


async def test_product_answers_take_sales_and_group_buys_from_one_snapshot_per_worker(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a:
        staff = await make_staff(a, db)
        cached_db: Database = state_of(a, "db")
        assert (await a.get(f"/api/v1/products/{catalog.teapot}")).status_code == 200
        with executed(cached_db) as statements:
            tee = (await a.get(f"/api/v1/products/{catalog.tshirt}")).json()
        assert {s["code"]: s["available"] for s in tee["skus"]} == {
            catalog.sku_m: 10,
            catalog.sku_l: 5,
            catalog.sku_xl: 0,
        }
        # Stock is the product's own query; sales and group buys come from the snapshot.
        assert [s for s in statements if "stock_levels" in s]
        campaigns = ("flash_sales", "group_buys", "shop_settings")
        assert not [s for s in statements if any(t in s for t in campaigns)]
        # A sale and a group buy set up now (the staff change clears this worker's snapshot).
        for path, body in (
            ("flash-sales", {"sku": catalog.sku_m, "sale_price": 5900, "quantity": 20}),
            ("group-buys", {"sku": catalog.sku_pot, "group_price": 49900, "min_buyers": 2}),
        ):
            r = await a.post(f"/api/v1/staff/{path}", json=body | window(), headers=staff.manager)
            assert r.status_code == 201, r.text
        tee = (await a.get(f"/api/v1/products/{catalog.tshirt}")).json()
        on_sale = next(s for s in tee["skus"] if s["code"] == catalog.sku_m)
        assert on_sale["price"] == 5900 and on_sale["flash_sale"] is not None
        pot = (await a.get(f"/api/v1/products/{catalog.teapot}")).json()
        assert [g["group_price"] for g in pot["group_buys"]] == [49900]


async def test_an_offer_is_kept_while_its_stock_stands_and_read_again_once_it_moves(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings, offers=60) as a, worker(backend, settings) as b:
        staff = await make_staff(b, db)
        cached_db, watch = await watching(a)
        url = f"/api/v1/products/{catalog.teapot}"
        assert available((await a.get(url)).json(), catalog.sku_pot) == 3
        await asyncio.sleep(TTL + 0.1)
        await watch.check()
        with executed(cached_db, "stock_levels") as read:
            assert available((await a.get(url)).json(), catalog.sku_pot) == 3
            assert read == []  # past the short entry's life, and its stock has not moved
            await write_off(b, staff, catalog.sku_pot, 2)
            # Until this worker's watch has looked at the ledger, it shows what it kept ...
            assert available((await a.get(url)).json(), catalog.sku_pot) == 3
            # ... and at its next look the moved product is read again; the others stay kept.
            await watch.check()
            assert available((await a.get(url)).json(), catalog.sku_pot) == 1
            assert len(read) == 1
            tee = (await a.get(f"/api/v1/products/{catalog.tshirt}")).json()
            assert available(tee, catalog.sku_m) == 10
            assert len(read) == 2


async def test_an_offer_keeps_to_the_short_life_under_a_campaign_or_without_a_watch(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings, offers=60) as a:
        staff = await make_staff(a, db)
        cached_db, watch = await watching(a, 0.2)
        r = await a.post(
            "/api/v1/staff/group-buys",
            json={"sku": catalog.sku_pot, "group_price": 49900, "min_buyers": 2} | window(),
            headers=staff.manager,
        )
        assert r.status_code == 201, r.text
        pot, tee = f"/api/v1/products/{catalog.teapot}", f"/api/v1/products/{catalog.tshirt}"
        for url in (pot, tee):
            assert (await a.get(url)).status_code == 200
        await asyncio.sleep(TTL + 0.1)
        await watch.check()
        with executed(cached_db, "stock_levels") as read:
            # A group buy's progress moves without the ledger: that offer is read again.
            assert (await a.get(pot)).json()["group_buys"]
            assert (await a.get(tee)).status_code == 200
        assert len(read) == 1
        # A watch that has stopped looking is not trusted: every offer goes back to the short
        # life, as if nothing watched the ledger.
        await asyncio.sleep(TTL + 0.1)
        with executed(cached_db, "stock_levels") as read:
            assert (await a.get(tee)).status_code == 200
        assert len(read) == 1


async def test_member_prices_follow_a_kept_ladder_and_its_change_made_anywhere(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings) as a, worker(backend, settings) as b:
        staff = await make_staff(b, db)
        ladder = "/api/v1/staff/membership/levels"
        first = [{"name": "silver", "min_spend": 0, "discount_percent": 5}]
        r = await b.put(ladder, json={"levels": first}, headers=staff.manager)
        assert r.status_code == 200, r.text
        cached_db, watch = await watching(a)
        r = await a.post(
            "/api/v1/customers",
            json={"email": "ladder@example.com", "password": "a-long-password-1", "name": "王五"},
        )
        assert r.status_code == 201, r.text

        async def price() -> int:
            skus = (await a.get(f"/api/v1/products/{catalog.tshirt}")).json()["skus"]
            return int(next(s["price"] for s in skus if s["code"] == catalog.sku_m))

        assert await price() == 7505
        with executed(cached_db, "membership_levels") as asked:
            await asyncio.sleep(TTL + 0.1)
            assert await price() == 7505
        assert asked == []  # the ladder is the catalog's: kept, not read per request
        second = [{"name": "silver", "min_spend": 0, "discount_percent": 10}]
        r = await b.put(ladder, json={"levels": second}, headers=staff.manager)
        assert r.status_code == 200, r.text
        assert await watch.check()
        assert await price() == 7110


async def test_a_listing_is_kept_while_its_products_stock_stands(
    backend: Backend, settings: Settings, db: Database, catalog: SmallCatalog
) -> None:
    async with worker(backend, settings, offers=60) as a, worker(backend, settings) as b:
        staff = await make_staff(b, db)
        cached_db, watch = await watching(a)
        pots, tees = "/api/v1/products?q=teapot", "/api/v1/products?q=cotton"
        for url in (pots, tees):
            assert [i["in_stock"] for i in (await a.get(url)).json()["items"]] == [True]
        await asyncio.sleep(TTL + 0.1)
        await watch.check()
        with executed(cached_db, "stock_levels") as read:
            assert [i["in_stock"] for i in (await a.get(pots)).json()["items"]] == [True]
            assert read == []
            await write_off(b, staff, catalog.sku_pot, 3)
            await watch.check()
            # The teapot's listing is read again; the T-shirt's, whose stock stood, is not.
            assert [i["in_stock"] for i in (await a.get(pots)).json()["items"]] == [False]
            assert [i["in_stock"] for i in (await a.get(tees)).json()["items"]] == [True]
            assert len(read) == 1
