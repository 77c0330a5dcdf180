"""Flash sales: set up by managers, priced exactly within their window at read time, and never
oversold — 300 buyers at once for 20 units on both back ends."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from sqlalchemy import select, text

from shopd import security
from shopd.cart import service as carts
from shopd.config import Settings
from shopd.db import Database, utcnow
from shopd.orders.models import Order, OrderLine
from shopd.promotions.models import FlashSale
from tests.conftest import SmallCatalog, checkout_body, executed
from tests.crowd import by_transfer, check_out_at_once, guest_carts
from tests.staffkit import Staff, make_staff, window
from tests.test_checkout import count, stock_of

REGULAR = 7900  # TEE-M, TEE-L: the T-shirt's list price
BASE = "/api/v1/staff/flash-sales"


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


def sale_body(sku: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"sku": sku, "sale_price": 5900, "quantity": 20, **window()}
    body.update(extra)
    return body


async def test_setting_up_a_sale_checks_every_rule(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    r = await client.post(BASE, json=sale_body(catalog.sku_m), headers=staff.clerk)
    assert r.status_code == 403
    naive = sale_body(catalog.sku_m, starts_at="2026-12-12T20:00:00")
    refusals = [
        (naive, 400, "validation_error"),
        (sale_body(catalog.sku_m, **window(length=-10)), 400, "invalid_sale_window"),
        (sale_body(catalog.sku_m, **window(start_in=-7200)), 400, "invalid_sale_window"),
        (sale_body(catalog.sku_m, sale_price=REGULAR), 400, "invalid_sale_price"),
        # The floor is 70% of 79.00 = 55.30.
        (sale_body(catalog.sku_m, sale_price=5529), 400, "below_price_floor"),
        (sale_body(catalog.sku_m, quantity=0), 400, "validation_error"),
        (sale_body(catalog.sku_m, per_customer_limit=10**6), 400, "validation_error"),
        (sale_body("NO-SUCH"), 404, "sku_not_found"),
        (sale_body(catalog.sku_m, sale_price="fifty-nine"), 400, "validation_error"),
    ]
    for body, status, code in refusals:
        r = await client.post(BASE, json=body, headers=staff.manager)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
    assert (await client.get(BASE, headers=staff.clerk)).json() == []

    r = await client.post(
        BASE, json=sale_body(catalog.sku_m, sale_price=5530), headers=staff.manager
    )
    assert r.status_code == 201 and r.json()["state"] == "running"
    r = await client.post(
        BASE, json=sale_body(catalog.sku_m, **window(start_in=600)), headers=staff.manager
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "sale_overlaps"
    # A campaign the shop marks exempt may go under the floor.
    r = await client.post(
        BASE,
        json=sale_body(catalog.sku_l, sale_price=3950, floor_exempt=True, title="双十一"),
        headers=staff.manager,
    )
    assert r.status_code == 201 and r.json()["floor_exempt"] is True
    audit = await client.get("/api/v1/staff/audit?action=flash_sale.create", headers=staff.admin)
    assert len(audit.json()["items"]) == 2


async def test_the_price_changes_exactly_at_the_start_and_end_second(
    db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff, client: httpx.AsyncClient
) -> None:
    start = (utcnow() + dt.timedelta(hours=1)).replace(microsecond=0)
    end = start + dt.timedelta(minutes=10)
    body = sale_body(catalog.sku_m, starts_at=start.isoformat(), ends_at=end.isoformat())
    assert (await client.post(BASE, json=body, headers=staff.manager)).status_code == 201
    owner = carts.CartOwner(token_hash=security.token_digest(security.new_token()))
    async with db.write() as s:
        await carts.add_item(s, settings, owner, catalog.sku_m, 1)
        await s.commit()
    second = dt.timedelta(seconds=1)
    expected = [
        (start - second, REGULAR),
        (start, 5900),
        (end - second, 5900),
        (end, REGULAR),
        (end + second, REGULAR),
    ]
    async with db.read() as s:
        cart = await carts.find_cart(s, owner)
        for now, price in expected:
            (line,) = await carts.priced_lines(s, settings, cart, now)
            assert line.unit_price == price, now


async def test_buying_at_the_sale_price_and_the_per_customer_limit(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    r = await client.post(BASE, json=sale_body(catalog.sku_m), headers=staff.manager)
    sale_id = r.json()["id"]
    product = (await client.get(f"/api/v1/products/{catalog.tshirt}")).json()
    skus = {s["code"]: s for s in product["skus"]}
    assert (skus[catalog.sku_m]["price"], skus[catalog.sku_m]["regular_price"]) == (5900, REGULAR)
    assert skus[catalog.sku_m]["flash_sale"]["remaining"] == 20
    assert skus[catalog.sku_l]["flash_sale"] is None and skus[catalog.sku_l]["price"] == REGULAR
    page = (await client.get(f"/p/{catalog.tshirt}", params={"lang": "zh"})).text
    assert "限时秒杀" in page and "秒杀价仅剩 20 件" in page and "每人限购 1 件" in page
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    cart = (await client.get("/api/v1/cart")).json()
    line = cart["items"][0]
    assert (line["unit_price"], line["regular_price"]) == (5900, REGULAR)
    assert line["flash_sale"]["remaining"] == 20 and line["flash_sale"]["per_customer_limit"] == 1
    r = await client.post("/api/v1/orders", json=checkout_body())
    assert r.status_code == 201, r.text
    assert r.json()["items"][0]["unit_price"] == 5900

    # The same buyer (by e-mail, as a guest) again: refused, and nothing written.
    before = (await count(db, Order), await stock_of(db, catalog.sku_m))
    client.cookies.clear()
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    r = await client.post("/api/v1/orders", json=checkout_body())
    assert r.status_code == 409 and r.json()["error"]["code"] == "sale_limit_reached"
    assert "1 per customer" in r.json()["error"]["message"]
    assert (await count(db, Order), await stock_of(db, catalog.sku_m)) == before

    # Stopped early: the regular price is back at once.
    r = await client.post(f"{BASE}/{sale_id}/end", headers=staff.manager)
    assert r.status_code == 200 and r.json()["state"] == "ended" and r.json()["sold"] == 1
    assert (await client.get("/api/v1/cart")).json()["items"][0]["unit_price"] == REGULAR
    r = await client.post(f"{BASE}/{sale_id}/end", headers=staff.manager)
    assert r.status_code == 409 and r.json()["error"]["code"] == "sale_over"
    assert (await client.post(f"{BASE}/99999/end", headers=staff.manager)).status_code == 404


async def test_three_hundred_buyers_for_twenty_sale_units(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    """300 checkouts at once, from 250 buyers (50 try twice), for a sale of 20 units, one each:
    exactly 20 orders, 20 different buyers, stock and ledger agree, everyone else told why."""
    r = await client.post(
        f"/api/v1/staff/stock/{catalog.sku_m}/receipts", json={"quantity": 490}, headers=staff.clerk
    )
    assert r.json()["on_hand"] == 500
    r = await client.post(BASE, json=sale_body(catalog.sku_m), headers=staff.manager)
    sale_id = r.json()["id"]
    emails = [f"buyer{i}@example.com" for i in range(250)] + [
        f"buyer{i}@example.com" for i in range(50)
    ]
    owners = await guest_carts(db, settings, catalog.sku_m, len(emails))
    outcome = await check_out_at_once(db, settings, owners, lambda i: by_transfer(emails[i]))
    assert outcome["ok"] == 20, outcome
    assert set(outcome) <= {"ok", "sale_sold_out", "sale_limit_reached"}, outcome
    async with db.read() as s:
        buyers = list(await s.scalars(select(Order.email)))
        prices = set(await s.scalars(select(OrderLine.unit_price)))
        sale = await s.get(FlashSale, sale_id)
    assert len(buyers) == 20 and len(set(buyers)) == 20
    assert prices == {5900}
    assert sale is not None and sale.sold == 20
    on_hand, ledger, sales = await stock_of(db, catalog.sku_m)
    assert (on_hand, ledger, sales) == (480, 480, 20)


async def test_a_sale_seen_sold_out_refuses_at_once_without_queueing_for_its_row(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    """Units sold never go back to a sale, so a checkout that has read the sale as sold out
    refuses before it writes anything: in a rush it neither writes an order to roll back nor
    waits behind the checkouts that hold the sale's row (MariaDB: a row lock; here held by
    another transaction throughout)."""
    r = await client.post(BASE, json=sale_body(catalog.sku_m, quantity=1), headers=staff.manager)
    sale_id = r.json()["id"]
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    assert (await client.post("/api/v1/orders", json=checkout_body())).status_code == 201

    client.cookies.clear()
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    before = (await count(db, Order), await stock_of(db, catalog.sku_m))
    holder = None
    if not db.is_sqlite:  # SQLite's writers take turns on the whole database instead
        holder = await db.write_engine.connect()
        await holder.begin()
        await holder.execute(
            text("SELECT id FROM flash_sales WHERE id = :id FOR UPDATE"), {"id": sale_id}
        )
    try:
        with executed(db) as statements:
            r = await asyncio.wait_for(
                client.post("/api/v1/orders", json=checkout_body(email="late@example.com")), 10
            )
    finally:
        if holder is not None:
            await holder.rollback()
            await holder.close()
    assert r.status_code == 409 and r.json()["error"]["code"] == "sale_sold_out", r.text
    writes = ("INSERT", "UPDATE", "DELETE")
    assert not [s for s in statements if s.lstrip().upper().startswith(writes)], statements
    assert (await count(db, Order), await stock_of(db, catalog.sku_m)) == before


async def test_a_checkout_writes_the_rows_other_buyers_share_last(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    """The sale's row, the SKU's stock and the product's sales count are what a rush of buyers
    queue for; a checkout writes its own rows (order, lines, event, mail, emptied cart) first
    and those shared rows last, so it holds them only for their own statements."""
    await client.post(BASE, json=sale_body(catalog.sku_m), headers=staff.manager)
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 1})
    with executed(db) as statements:
        r = await client.post("/api/v1/orders", json=checkout_body())
    assert r.status_code == 201, r.text
    writes = [
        " ".join(s.split()[:3]).lower().replace("`", "").replace('"', "")
        for s in statements
        if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    shared = [i for i, w in enumerate(writes) if w.startswith("update flash_sales")]
    assert shared, writes
    own = (
        "insert into orders",
        "insert into order_lines",
        "insert into order_events",
        "insert into outbox",
        "delete from cart_items",
    )
    for prefix in own:
        at = [i for i, w in enumerate(writes) if w.startswith(prefix)]
        assert at and max(at) < shared[0], (prefix, writes)
    assert {w for w in writes[shared[0] :]} <= {
        "update flash_sales set",
        "insert into flash_sale_buyers",
        "update stock_levels set",
        "insert into stock_movements",
        "update products set",
    }, writes
