"""The header's cart count: carried by a guest's browser after a cart answer, counted on the
database whenever the browser's carried count may be out of date."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager

import httpx

from shopd.cart import badge
from shopd.db import Database
from tests.conftest import SmallCatalog, checkout_body, executed
from tests.test_customers import register
from tests.test_storefront import csrf

HOME = "/?lang=en"


def shown(html: str) -> int:
    found = re.search(r'<span id="cart-count">([^<]*)</span>', html)
    assert found, "the page has no cart count"
    return int(found.group(1))


def counts(db: Database) -> AbstractContextManager[list[str]]:
    """The cart-count queries run while inside."""
    return executed(db, "sum(cart_items.quantity)")


async def test_a_cart_answer_hands_the_count_to_the_pages_without_a_query(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 2})
    assert r.status_code == 200
    assert client.cookies[badge.COOKIE].startswith("2.")
    with counts(db) as queries:
        assert shown((await client.get(HOME)).text) == 2
        assert shown((await client.get(f"/p/{catalog.teapot}")).text) == 2
    assert queries == []
    r = await client.patch(f"/api/v1/cart/items/{catalog.sku_pot}", json={"quantity": 1})
    assert r.status_code == 200 and client.cookies[badge.COOKIE].startswith("1.")
    r = await client.delete(f"/api/v1/cart/items/{catalog.sku_pot}")
    assert r.status_code == 200 and client.cookies[badge.COOKIE].startswith("0.")
    assert shown((await client.get(HOME)).text) == 0


async def test_any_other_change_drops_the_count_and_the_next_page_counts_again(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    # A form on a page: the count goes, the page after counts on the database and carries it.
    token = await csrf(client, HOME)
    r = await client.post(
        "/cart/add", data={"_csrf_token": token, "sku": catalog.sku_pot, "quantity": "2"}
    )
    assert r.status_code == 303 and badge.COOKIE not in client.cookies
    with counts(db) as queries:
        assert shown((await client.get(HOME)).text) == 3
        assert shown((await client.get(HOME)).text) == 3
    assert len(queries) == 1 and client.cookies[badge.COOKIE].startswith("3.")
    # A refused add changes nothing, and still drops the count: the next page counts again.
    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_xl, "quantity": 1})
    assert r.status_code == 409 and badge.COOKIE not in client.cookies
    # A checkout empties the cart; the count it dropped is counted again as nothing.
    await client.get(HOME)
    r = await client.post("/api/v1/orders", json=checkout_body())
    assert r.status_code == 201, r.text
    assert badge.COOKIE not in client.cookies
    assert shown((await client.get(HOME)).text) == 0


async def test_a_count_carried_for_another_cart_or_forged_is_not_believed(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    tag = client.cookies[badge.COOKIE].partition(".")[2]
    for forged in ("7.0123456789ab", f"x.{tag}", f"99999999.{tag}", "", f"-1.{tag}"):
        client.cookies.set(badge.COOKIE, forged)
        with counts(db) as queries:
            assert shown((await client.get(HOME)).text) == 1, forged
        assert len(queries) == 1, forged


async def test_a_members_cart_is_counted_every_time(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    # A member's cart follows them to other devices, which a cookie here would not see.
    await register(client)
    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 2})
    assert r.status_code == 200 and badge.COOKIE not in client.cookies
    with counts(db) as queries:
        assert shown((await client.get(HOME)).text) == 2
        assert shown((await client.get(HOME)).text) == 2
    assert len(queries) == 2 and badge.COOKIE not in client.cookies
