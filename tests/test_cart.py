"""The cart: guest cookie carts, stock-checked quantities, merge at log-in."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, text

from shopd.cart.models import Cart, CartItem
from shopd.config import Settings
from shopd.db import Database
from shopd.server.app import create_app
from tests.conftest import SmallCatalog, executed


async def items(db: Database) -> int:
    async with db.read() as s:
        return await s.scalar(select(func.count()).select_from(CartItem)) or 0


async def test_guest_cart_add_change_remove(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    empty = await client.get("/api/v1/cart")
    assert empty.status_code == 200 and empty.json()["items"] == []
    assert "shopd_cart" not in empty.cookies  # no cart is made just by looking

    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 2})
    assert r.status_code == 200
    assert r.cookies.get("shopd_cart")
    cart = r.json()
    assert cart["items"][0]["sku"] == "TEE-M" and cart["items"][0]["quantity"] == 2
    assert cart["subtotal"] == 15800 and cart["item_count"] == 2
    assert cart["total"] == cart["subtotal"] + cart["shipping_fee"]

    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    assert r.json()["items"][0]["quantity"] == 3  # adding again adds up

    r = await client.patch(f"/api/v1/cart/items/{catalog.sku_m}", json={"quantity": 5})
    assert r.status_code == 200 and r.json()["items"][0]["quantity"] == 5

    r = await client.delete(f"/api/v1/cart/items/{catalog.sku_m}")
    assert r.status_code == 200 and r.json()["items"] == []
    assert await items(db) == 0


async def test_totals_follow_current_prices(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    from shopd.catalog.models import Product

    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 2})
    async with db.write() as s:
        product = await s.scalar(select(Product).where(Product.slug == catalog.tshirt))
        assert product is not None
        product.list_price = 6900
        await s.commit()
    cart = (await client.get("/api/v1/cart")).json()
    assert cart["items"][0]["unit_price"] == 6900 and cart["subtotal"] == 13800


async def test_carts_are_separate_per_guest(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    other = httpx.AsyncClient(transport=client._transport, base_url="http://shop.test")  # type: ignore[attr-defined]
    async with other:
        assert (await other.get("/api/v1/cart")).json()["items"] == []
        other.cookies.set("shopd_cart", "x" * 43)
        forged = await other.get("/api/v1/cart")
        assert forged.json()["items"] == []


@pytest.mark.parametrize(
    ("request_body", "status", "code"),
    [
        ({"sku": "TEE-M", "quantity": 11}, 409, "out_of_stock"),
        ({"sku": "TEE-XL", "quantity": 1}, 409, "out_of_stock"),
        ({"sku": "NOPE", "quantity": 1}, 404, "unknown_sku"),
        ({"sku": "OLD-1", "quantity": 1}, 409, "not_for_sale"),
        ({"sku": "TEE-M", "quantity": 0}, 400, "validation_error"),
        ({"sku": "TEE-M", "quantity": -3}, 400, "validation_error"),
        ({"sku": "TEE-M", "quantity": 100}, 400, "invalid_quantity"),
        ({"sku": "TEE-M", "quantity": 10**30}, 400, "validation_error"),
        ({"sku": "TEE-M", "quantity": 1.5}, 400, "validation_error"),
        ({"sku": 42, "quantity": 1}, 400, "validation_error"),
        ({"sku": "", "quantity": 1}, 400, "validation_error"),
        ({"sku": "x" * 65}, 400, "validation_error"),
        ({"quantity": 1}, 400, "validation_error"),
        ({"sku": "TEE-M", "quantity": 1, "price": 1}, 400, "validation_error"),
        ([], 400, "validation_error"),
    ],
)
async def test_bad_cart_additions_change_nothing(
    client: httpx.AsyncClient,
    db: Database,
    catalog: SmallCatalog,
    request_body: object,
    status: int,
    code: str,
) -> None:
    r = await client.post("/api/v1/cart/items", json=request_body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert await items(db) == 0


async def test_out_of_stock_details_say_what_is_available(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_l, "quantity": 4})
    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_l, "quantity": 2})
    assert r.status_code == 409
    assert r.json()["error"]["details"] == {"sku": "TEE-L", "requested": 6, "available": 5}
    r = await client.patch(f"/api/v1/cart/items/{catalog.sku_l}", json={"quantity": 6})
    assert r.status_code == 409
    assert (await client.get("/api/v1/cart")).json()["items"][0]["quantity"] == 4


async def test_changing_what_is_not_in_the_cart(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    r = await client.patch(f"/api/v1/cart/items/{catalog.sku_m}", json={"quantity": 1})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_in_cart"
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    r = await client.delete(f"/api/v1/cart/items/{catalog.sku_pot}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_in_cart"
    r = await client.patch(f"/api/v1/cart/items/{catalog.sku_m}", json={"quantity": "many"})
    assert r.status_code == 400


async def test_guest_cart_merges_into_customer_cart_at_login(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    reg = await client.post(
        "/api/v1/customers", json={"email": "mei@example.com", "password": "long-enough-pw"}
    )
    assert reg.status_code == 201
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 2})
    await client.delete("/api/v1/session")
    client.cookies.clear()

    # As a guest, put more in a new cart, then log in.
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 3})
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 1})
    login = await client.post(
        "/api/v1/session", json={"email": "mei@example.com", "password": "long-enough-pw"}
    )
    assert login.status_code == 200
    cart = (await client.get("/api/v1/cart")).json()
    assert {i["sku"]: i["quantity"] for i in cart["items"]} == {"TEE-M": 5, "POT-1": 1}
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Cart)) == 1  # guest cart gone


async def test_many_guests_adding_at_once_all_get_their_cart(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    """Fresh guests create carts concurrently. On MariaDB a locking read of a missing cart takes
    a gap lock that deadlocks the guests' inserts; every guest must still get a cart, never a
    500 or a 503."""
    import asyncio

    async def guest() -> int:
        async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as c:
            r = await c.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
            return r.status_code

    async def deadlocks() -> int:
        if db.engine.dialect.name != "mysql":
            return 0
        async with db.read() as s:
            row = (await s.execute(text("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'"))).one()
        return int(row[1])

    before = await deadlocks()
    codes = await asyncio.gather(*(guest() for _ in range(32)))
    assert codes == [200] * 32
    # Retries would hide them, but each one is a wasted unit of work under a rush.
    assert await deadlocks() == before
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Cart)) == 32
    assert await items(db) == 32


async def test_a_cart_holds_at_most_max_cart_lines_different_items(
    db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    app = create_app(settings.model_copy(update={"max_cart_lines": 2}), database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://shop.test"
    ) as c:
        for sku in (catalog.sku_m, catalog.sku_pot):
            assert (await c.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1})).is_success
        r = await c.post("/api/v1/cart/items", json={"sku": catalog.sku_l, "quantity": 1})
        assert r.status_code == 409 and r.json()["error"]["code"] == "cart_full"
        # More of a line already there is no new line.
        r = await c.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 2})
        assert r.status_code == 200, r.text
        cart = (await c.get("/api/v1/cart")).json()
        lines = {ln["sku"]: ln["quantity"] for ln in cart["items"]}
        assert lines == {catalog.sku_m: 3, catalog.sku_pot: 1}


async def test_a_cart_answer_reads_the_cart_once_with_its_stock_and_sales(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    for request in (
        lambda: client.post("/api/v1/cart/items", json={"sku": catalog.sku_l, "quantity": 1}),
        lambda: client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1}),
        lambda: client.get("/api/v1/cart"),
    ):
        with executed(db) as statements:
            r = await request()
        assert r.status_code == 200
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        # The cart's lines once (a change answers from what it read and wrote), with the
        # flash sales joined in rather than asked for apart.
        assert len([s for s in reads if "FROM cart_items" in s]) == 1, reads
        assert not [s for s in reads if "FROM flash_sales" in s], reads
    assert {i["sku"]: i["quantity"] for i in r.json()["items"]} == {
        catalog.sku_m: 2,
        catalog.sku_l: 1,
    }
