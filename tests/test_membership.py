"""Membership on both back ends: the shop's VIP ladder, levels earned by paying and lost by
refunds (with history), member prices, points earned on payment, spent at checkout, given
back on cancel and taken back on refund, and manager adjustments."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import select

from shopd.customers.models import Customer, PointsEntry
from shopd.db import Database, utcnow
from shopd.orders.models import Order
from tests.conftest import SmallCatalog, checkout_body
from tests.staffkit import Staff, make_staff
from tests.test_checkout import count

LEVELS = "/api/v1/staff/membership/levels"
LADDER = [
    {"name": "silver", "min_spend": 10000, "discount_percent": 5},
    {"name": "gold", "min_spend": 50000, "discount_percent": 10},
]


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def register(client: httpx.AsyncClient, db: Database, email: str = "vip@example.com") -> int:
    r = await client.post(
        "/api/v1/customers",
        json={"email": email, "password": "a-long-password-1", "name": "李四"},
    )
    assert r.status_code == 201, r.text
    async with db.read() as s:
        return int(await s.scalar(select(Customer.id).where(Customer.email == email)) or 0)


async def order_and_pay(
    client: httpx.AsyncClient, staff: Staff, sku: str, qty: int = 1, **extra: object
) -> dict:
    r = await client.post("/api/v1/cart/items", json={"sku": sku, "quantity": qty})
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/orders", json=checkout_body(email=None, **extra))
    assert r.status_code == 201, r.text
    order = r.json()
    r = await client.post(
        f"/api/v1/staff/orders/{order['number']}/payments",
        json={"amount": order["total"], "reference": "T"},
        headers=staff.clerk,
    )
    assert r.status_code == 200, r.text
    return order


async def test_the_ladder_is_set_by_managers_and_checked(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    assert (
        await client.put(LEVELS, json={"levels": LADDER}, headers=staff.clerk)
    ).status_code == 403
    bad = [
        [
            {"name": "a", "min_spend": 100, "discount_percent": 10},
            {"name": "b", "min_spend": 200, "discount_percent": 5},
        ],
        [
            {"name": "a", "min_spend": 100, "discount_percent": 1},
            {"name": "a", "min_spend": 200, "discount_percent": 2},
        ],
        [
            {"name": "a", "min_spend": 100, "discount_percent": 1},
            {"name": "b", "min_spend": 100, "discount_percent": 2},
        ],
        [{"name": "member", "min_spend": 100, "discount_percent": 1}],
    ]
    for levels in bad:
        r = await client.put(LEVELS, json={"levels": levels}, headers=staff.manager)
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_levels"), levels
    r = await client.put(
        LEVELS,
        json={"levels": [{"name": "x", "min_spend": 1, "discount_percent": 95}]},
        headers=staff.manager,
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"
    r = await client.put(LEVELS, json={"levels": LADDER}, headers=staff.manager)
    assert r.status_code == 200 and [lv["name"] for lv in r.json()] == ["silver", "gold"]
    assert (await client.get(LEVELS, headers=staff.clerk)).json() == r.json()


async def test_paying_earns_points_and_a_level_and_member_prices_follow(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    await client.put(LEVELS, json={"levels": LADDER}, headers=staff.manager)
    customer_id = await register(client, db)
    mine = (await client.get("/api/v1/me/membership")).json()
    assert (mine["level"], mine["points"], mine["next_level"]) == ("member", 0, "silver")

    order = await order_and_pay(client, staff, catalog.sku_pot)
    mine = (await client.get("/api/v1/me/membership")).json()
    # 1% of 588.00 in points (1 point = 0.01), and 588.00 spent: gold.
    assert (mine["level"], mine["discount_percent"], mine["points"]) == ("gold", 10, 588)
    assert mine["points_history"][0] | {"at": None} == {
        "at": None,
        "reason": "earn",
        "delta": 588,
        "balance_after": 588,
        "order_number": order["number"],
        "note": "",
    }
    assert [(c["from_level"], c["to_level"]) for c in mine["level_history"]] == [("member", "gold")]
    detail = await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
    assert detail.json()["points_earned"] == 588

    # Gold members pay 90% of 79.00 for the T-shirt, in the cart, the quote and the order.
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    line = (await client.get("/api/v1/cart")).json()["items"][0]
    assert (line["unit_price"], line["regular_price"], line["priced_by"]) == (7110, 7900, "member")
    quote = (await client.post("/api/v1/cart/quote", json={"points": 100})).json()
    assert quote["member_level"] == "gold" and quote["points_used"] == 100
    assert quote["total"] == 7110 - 100 + 1000

    # Product reads are shared per discount: the member, a guest and the member again each
    # see their own price, however the read cache holds them.
    member_cookies = dict(client.cookies)
    for who, price in (("gold", 7110), ("guest", 7900), ("gold", 7110)):
        client.cookies.clear()
        if who == "gold":
            client.cookies.update(member_cookies)
        skus = (await client.get(f"/api/v1/products/{catalog.tshirt}")).json()["skus"]
        assert {s["code"]: s["price"] for s in skus}[catalog.sku_m] == price, who
        page = (await client.get(f"/p/{catalog.tshirt}", params={"lang": "en"})).text
        assert f"{price / 100:.2f}" in page, who

    # Points: more than the balance is refused and nothing is written.
    before = await count(db, Order)
    r = await client.post("/api/v1/orders", json=checkout_body(email=None, points=10**6))
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_points"
    assert await count(db, Order) == before
    r = await client.post("/api/v1/orders", json=checkout_body(email=None, points=100))
    assert r.status_code == 201, r.text
    second = r.json()
    assert (second["total"], second["points_spent"]) == (7110 - 100 + 1000, 100)
    assert {"kind": "member", "code": catalog.sku_m, "amount": 790} in second["promotions"]
    assert (await client.get("/api/v1/me/membership")).json()["points"] == 488

    # Cancelled unpaid: the 100 points come back.
    r = await client.post(f"/api/v1/me/orders/{second['number']}/cancel")
    assert r.status_code == 200, r.text
    assert (await client.get("/api/v1/me/membership")).json()["points"] == 588

    # A guest cannot spend points.
    client.cookies.clear()
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    r = await client.post("/api/v1/orders", json=checkout_body(points=10))
    assert r.status_code == 400 and r.json()["error"]["code"] == "points_need_account"

    async with db.read() as s:
        ledger = list(
            await s.scalars(select(PointsEntry.delta).where(PointsEntry.customer_id == customer_id))
        )
        row = await s.get(Customer, customer_id)
    assert row is not None and sum(ledger) == row.points == 588


async def test_a_refund_takes_back_points_and_spend_and_may_lower_the_level(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    await client.put(LEVELS, json={"levels": LADDER}, headers=staff.manager)
    customer_id = await register(client, db)
    await client.post(
        f"/api/v1/staff/customers/{customer_id}/points",
        json={"delta": 1000, "note": "welcome gift"},
        headers=staff.manager,
    )
    # 588.00 less 10.00 of points: 578.00 paid, and 1% of it earned.
    order = await order_and_pay(client, staff, catalog.sku_pot, points=1000)
    assert order["total"] == 58800 - 1000 and order["points_spent"] == 1000
    mine = (await client.get("/api/v1/me/membership")).json()
    assert (mine["level"], mine["points"]) == ("gold", 578)

    base = f"/api/v1/staff/orders/{order['number']}"
    for path, payload in [
        ("/picking", {}),
        ("/ship", {"carrier": "SF", "tracking_number": "SF1"}),
        ("/deliver", {}),
        ("/returns", {"reason": "cracked"}),
        ("/returns/receive", {"default": "writeoff"}),
        ("/refunds", {"reason": "cracked"}),
    ]:
        r = await client.post(base + path, json=payload, headers=staff.manager)
        assert r.status_code in (200, 201), (path, r.text)
    mine = (await client.get("/api/v1/me/membership")).json()
    # Earned points taken back, spent points given back, spend back to 0: no level.
    assert (mine["level"], mine["points"], mine["lifetime_spend"]) == ("member", 1000, 0)
    assert [h["reason"] for h in mine["points_history"][:2]] == ["earn_reversed", "spend_returned"]
    assert [(c["from_level"], c["to_level"]) for c in mine["level_history"]] == [
        ("gold", "member"),
        ("member", "gold"),
    ]
    staff_view = await client.get(
        f"/api/v1/staff/customers/{customer_id}/membership", headers=staff.clerk
    )
    assert staff_view.json()["points"] == 1000
    r = await client.post(
        f"/api/v1/staff/customers/{customer_id}/points",
        json={"delta": 5, "note": "x"},
        headers=staff.clerk,
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/staff/customers/999999/points",
        json={"delta": 5, "note": "x"},
        headers=staff.manager,
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "customer_not_found"


async def test_a_flash_sale_and_a_member_price_never_add_up_the_lower_wins(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    await client.put(
        LEVELS,
        json={"levels": [{"name": "gold", "min_spend": 0, "discount_percent": 20}]},
        headers=staff.manager,
    )
    await register(client, db)
    now = utcnow()
    window = {
        "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
    }
    for sku, price in ((catalog.sku_m, 5900), (catalog.sku_l, 7500)):
        r = await client.post(
            "/api/v1/staff/flash-sales",
            json={"sku": sku, "sale_price": price, "quantity": 5, **window},
            headers=staff.manager,
        )
        assert r.status_code == 201, r.text
    skus = {
        s["code"]: (s["price"], s["priced_by"])
        for s in (await client.get(f"/api/v1/products/{catalog.tshirt}")).json()["skus"]
    }
    # 20% off 79.00 is 63.20: under the M sale (59.00), over the L sale (75.00).
    assert skus[catalog.sku_m] == (5900, "flash_sale")
    assert skus[catalog.sku_l] == (6320, "member")
