"""Checkout: stock taken atomically with ledger rows, idempotency, no overselling, inquiry."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from shopd import security
from shopd.cart import service as carts
from shopd.config import Settings
from shopd.customers.service import AddressData
from shopd.db import Database
from shopd.errors import OutOfStock
from shopd.inventory.models import StockLevel, StockMovement
from shopd.orders import service as orders
from shopd.orders.models import Order, OrderLine
from tests.conftest import ADDRESS, SmallCatalog, checkout_body


async def stock_of(db: Database, code: str) -> tuple[int, int, int]:
    """(on_hand, sum of the ledger, number of sale rows) for a SKU."""
    from shopd.catalog.models import Sku

    async with db.read() as s:
        sku_id = await s.scalar(select(Sku.id).where(Sku.code == code))
        on_hand = await s.scalar(select(StockLevel.on_hand).where(StockLevel.sku_id == sku_id))
        ledger = await s.scalar(
            select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
                StockMovement.sku_id == sku_id
            )
        )
        sales = await s.scalar(
            select(func.count()).where(
                StockMovement.sku_id == sku_id, StockMovement.reason == "sale"
            )
        )
    return int(on_hand or 0), int(ledger or 0), int(sales or 0)


async def count(db: Database, model: type) -> int:
    async with db.read() as s:
        return await s.scalar(select(func.count()).select_from(model)) or 0


async def test_guest_checkout_takes_stock_writes_ledger_and_empties_cart(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 2})
    assert r.status_code == 200
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 1})
    r = await client.post("/api/v1/orders", json=checkout_body(note="请周末送货"))
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "pending_payment" and order["paid"] is False
    assert order["subtotal"] == 2 * 7900 + 58800
    assert order["shipping_fee"] == 0  # above the free-shipping threshold
    assert order["total"] == order["subtotal"]
    assert {i["sku"]: i["quantity"] for i in order["items"]} == {"TEE-M": 2, "POT-1": 1}
    assert order["ship_to"]["city"] == "杭州市" and order["note"] == "请周末送货"
    assert await stock_of(db, catalog.sku_m) == (8, 8, 1)
    assert await stock_of(db, catalog.sku_pot) == (2, 2, 1)
    cart = (await client.get("/api/v1/cart")).json()
    assert cart["items"] == [] and cart["total"] == 0


async def test_small_order_pays_shipping(client: httpx.AsyncClient, catalog: SmallCatalog) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    order = (await client.post("/api/v1/orders", json=checkout_body())).json()
    assert order["shipping_fee"] == Settings().shipping_fee
    assert order["total"] == 7900 + order["shipping_fee"]


def test_order_numbers_are_dated_and_random() -> None:
    import datetime as dt

    now = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
    numbers = {security.new_order_number(now) for _ in range(2000)}
    assert len(numbers) == 2000
    assert all(n.startswith("20261111-") and len(n) == 19 for n in numbers)


async def test_a_failing_line_rolls_back_the_whole_order(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    """Stock sold elsewhere between cart and checkout: nothing of the order may remain."""
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 2})
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 3})
    # Another buyer takes one teapot.
    other = httpx.AsyncClient(transport=client._transport, base_url="http://shop.test")  # type: ignore[attr-defined]
    async with other:
        await other.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 1})
        assert (await other.post("/api/v1/orders", json=checkout_body())).status_code == 201
    r = await client.post("/api/v1/orders", json=checkout_body())
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "out_of_stock"
    assert err["details"] == {"sku": "POT-1", "requested": 3, "available": 2}
    assert await stock_of(db, catalog.sku_m) == (10, 10, 0)  # TEE-M went back untouched
    assert await count(db, Order) == 1 and await count(db, OrderLine) == 1
    assert len((await client.get("/api/v1/cart")).json()["items"]) == 2  # cart kept


async def test_idempotency_key_replays_the_same_order(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_l, "quantity": 1})
    headers = {"Idempotency-Key": "order-attempt-1"}
    first = await client.post("/api/v1/orders", json=checkout_body(), headers=headers)
    again = await client.post("/api/v1/orders", json=checkout_body(), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await count(db, Order) == 1
    # A retry after the cart was filled again still answers with the first order, and
    # leaves the new cart and its stock as they are.
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 2})
    stock_before = await stock_of(db, catalog.sku_m)
    late = await client.post("/api/v1/orders", json=checkout_body(), headers=headers)
    assert late.status_code == 200 and late.json() == first.json()
    assert late.headers["Idempotent-Replayed"] == "true"
    assert await count(db, Order) == 1
    assert await stock_of(db, catalog.sku_m) == stock_before
    assert [i["sku"] for i in (await client.get("/api/v1/cart")).json()["items"]] == [catalog.sku_m]
    changed = await client.post(
        "/api/v1/orders", json=checkout_body(payment_method="cod"), headers=headers
    )
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    assert await count(db, Order) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "schlüssel", "a\tb"])
async def test_bad_idempotency_keys_are_refused(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, key: str
) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_l, "quantity": 1})
    r = await client.post(
        "/api/v1/orders", json=checkout_body(), headers={"Idempotency-Key": key.encode("utf-8")}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] in ("invalid_idempotency_key", "validation_error")
    assert await count(db, Order) == 0


async def _guest_cart(
    db: Database, settings: Settings, sku: str, quantity: int = 1
) -> carts.CartOwner:
    owner = carts.CartOwner(token_hash=security.token_digest(security.new_token()))
    async with db.write() as s:
        await carts.add_item(s, settings, owner, sku, quantity)
        await s.commit()
    return owner


def _data() -> orders.CheckoutData:
    return orders.CheckoutData(
        payment_method="cod", email="crowd@example.com", address=AddressData(**ADDRESS)
    )


async def test_fifty_simultaneous_checkouts_of_ten_units(
    db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    owners = [await _guest_cart(db, settings, catalog.sku_m) for _ in range(50)]

    async def buy(owner: carts.CartOwner) -> str:
        async with db.write() as s:
            try:
                await orders.checkout(s, settings, owner, _data())
            except OutOfStock:
                return "out_of_stock"
            return "ok"

    results = await asyncio.gather(*(buy(o) for o in owners))
    assert results.count("ok") == 10
    assert results.count("out_of_stock") == 40
    on_hand, ledger, sales = await stock_of(db, catalog.sku_m)
    assert (on_hand, sales) == (0, 10)
    async with db.read() as s:
        sold = await s.scalar(
            select(func.sum(StockMovement.delta)).where(StockMovement.reason == "sale")
        )
    assert sold == -10
    assert ledger == on_hand
    assert await count(db, Order) == 10 and await count(db, OrderLine) == 10


async def test_five_concurrent_retries_with_one_key_make_one_order(
    db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    owner = await _guest_cart(db, settings, catalog.sku_m, 2)
    fp = orders.fingerprint(b"same body")

    async def attempt() -> tuple[str, bool]:
        async with db.write() as s:
            order, replayed = await orders.checkout(
                s, settings, owner, _data(), idempotency_key="k-123", request_fingerprint=fp
            )
            return order.number, replayed

    results = await asyncio.gather(*(attempt() for _ in range(5)))
    assert len({number for number, _ in results}) == 1
    assert sorted(replayed for _, replayed in results) == [False, True, True, True, True]
    assert await count(db, Order) == 1
    assert await stock_of(db, catalog.sku_m) == (8, 8, 1)


async def test_inquiry_by_email_or_phone_and_identical_404s(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    order = (
        await client.post(
            "/api/v1/orders", json=checkout_body(email="Li.Na@Example.com", phone="13900001111")
        )
    ).json()
    number = order["number"]
    by_email = await client.get(f"/api/v1/orders/{number}", params={"email": "li.na@example.COM"})
    assert by_email.status_code == 200
    body = by_email.json()
    assert body["number"] == number and body["status"] == "pending_payment"
    assert body["paid"] is False and body["shipped"] is False and body["ship_date"] is None
    assert "ship_to" not in body and "email" not in body  # nothing beyond what was asked
    by_phone = await client.get(f"/api/v1/orders/{number}", params={"phone": "139-0000-1111"})
    assert by_phone.status_code == 200
    wrong_email = await client.get(f"/api/v1/orders/{number}", params={"email": "x@example.com"})
    wrong_number = await client.get(
        "/api/v1/orders/20260101-ABCDEFGHJK", params={"email": "li.na@example.com"}
    )
    assert wrong_email.status_code == wrong_number.status_code == 404
    assert wrong_email.json() == wrong_number.json()
    assert wrong_email.json()["error"]["code"] == "order_not_found"
    no_contact = await client.get(f"/api/v1/orders/{number}")
    assert no_contact.status_code == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (checkout_body(payment_method="bitcoin"), "invalid_payment_method"),
        (checkout_body(email="not-an-email"), "invalid_email"),
        (checkout_body(address=None), "missing_field"),
        (checkout_body(address={**ADDRESS, "phone": "call me"}), "invalid_phone"),
        (checkout_body(address={**ADDRESS, "line1": "   "}), "missing_field"),
        (checkout_body(address={**ADDRESS, "country": "C1"}), "invalid_country"),
        (checkout_body(note="x" * 1001), "validation_error"),
        (checkout_body(address_id=5), "invalid_address"),
        (checkout_body(unknown="field"), "validation_error"),
        (checkout_body(address={**ADDRESS, "recipient": "a\x00b"}), "invalid_text"),
    ],
)
async def test_bad_checkout_input_changes_nothing(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, body: dict, code: str
) -> None:
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    r = await client.post("/api/v1/orders", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code
    assert await count(db, Order) == 0
    assert await stock_of(db, catalog.sku_m) == (10, 10, 0)
    assert len((await client.get("/api/v1/cart")).json()["items"]) == 1


async def test_checkout_with_empty_or_no_cart(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    r = await client.post("/api/v1/orders", json=checkout_body())
    assert r.status_code == 409 and r.json()["error"]["code"] == "cart_empty"
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    await client.delete(f"/api/v1/cart/items/{catalog.sku_m}")
    r = await client.post("/api/v1/orders", json=checkout_body())
    assert r.status_code == 409 and r.json()["error"]["code"] == "cart_empty"


async def test_payment_methods_are_listed(client: httpx.AsyncClient) -> None:
    methods = (await client.get("/api/v1/payment-methods")).json()
    assert {m["code"] for m in methods} == {"cod", "bank_transfer", "card"}
