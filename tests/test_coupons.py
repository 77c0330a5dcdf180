"""Coupons through the real API on both back ends: set-up rules, batches, "full 200 minus 30",
windows to the second, caps (also under 40 buyers at once), stacking, scope, giving a coupon
back when an unpaid order is cancelled, and refunds of discounted lines."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import select

from shopd.config import Settings
from shopd.db import Database, utcnow
from shopd.errors import DomainError
from shopd.orders.models import Order
from shopd.promotions import coupons
from shopd.promotions.models import Coupon, CouponRedemption
from tests.conftest import SmallCatalog, checkout_body
from tests.crowd import by_transfer, check_out_at_once, guest_carts
from tests.staffkit import Staff, make_staff, window
from tests.test_checkout import count, stock_of

BASE = "/api/v1/staff/coupons"


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


def coupon(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "code": "FULL200",
        "kind": "amount_off",
        "value": 3000,
        "min_spend": 20000,
        "max_uses": 100,
        **window(length=86400),
    }
    body.update(fields)
    return body


async def buy(
    client: httpx.AsyncClient, items: list[tuple[str, int]], **checkout: object
) -> httpx.Response:
    client.cookies.clear()
    for sku, qty in items:
        r = await client.post("/api/v1/cart/items", json={"sku": sku, "quantity": qty})
        assert r.status_code == 200, r.text
    return await client.post("/api/v1/orders", json=checkout_body(**checkout))


async def test_setting_up_coupons_checks_every_rule(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    assert (await client.post(BASE, json=coupon(), headers=staff.clerk)).status_code == 403
    refusals = [
        (coupon(kind="percent_off", value=95), 400, "invalid_coupon"),
        (coupon(kind="free_shipping", value=100), 400, "invalid_coupon"),
        (coupon(value=0), 400, "invalid_coupon"),
        (coupon(count=10), 400, "invalid_coupon"),
        (coupon(code="no spaces!"), 400, "invalid_coupon"),
        (coupon(code=None, count=2, prefix="-D11"), 400, "invalid_coupon"),
        (coupon(code=None, count=2, prefix="双十一"), 400, "invalid_coupon"),
        (coupon(max_uses=1, per_customer_limit=2), 400, "invalid_coupon"),
        (coupon(**window(length=-5)), 400, "invalid_window"),
        (coupon(starts_at="2026-12-12T00:00:00"), 400, "validation_error"),
        (coupon(products=["no-such-product"]), 404, "product_not_found"),
        (coupon(categories=["no-such-category"]), 404, "category_not_found"),
        (coupon(kind="bogus"), 400, "validation_error"),
        (coupon(value="thirty"), 400, "validation_error"),
    ]
    for body, status, code in refusals:
        r = await client.post(BASE, json=body, headers=staff.manager)
        assert (r.status_code, r.json().get("error", {}).get("code")) == (status, code), r.text
    r = await client.post(BASE, json=coupon(code="full200"), headers=staff.manager)
    assert r.status_code == 201 and r.json()["items"][0]["code"] == "FULL200"
    r = await client.post(BASE, json=coupon(), headers=staff.manager)
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_exists"

    # A batch: distinct codes with the prefix, listed by batch, each for one use.
    body = coupon(code=None, count=50, prefix="D11-", max_uses=1, title="双十一")
    r = await client.post(BASE, json=body, headers=staff.manager)
    assert r.status_code == 201, r.text
    made = r.json()["items"]
    codes = {c["code"] for c in made}
    assert len(codes) == 50 and all(c.startswith("D11-") and len(c) == 14 for c in codes)
    batch = made[0]["batch"]
    listed = (await client.get(BASE, params={"batch": batch}, headers=staff.clerk)).json()
    assert listed["total"] == 50 and {c["code"] for c in listed["items"]} == codes
    audit = await client.get("/api/v1/staff/audit?action=coupon.create", headers=staff.admin)
    assert len(audit.json()["items"]) == 2


async def test_full_200_minus_30_at_checkout_matches_the_quote(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    await client.post(BASE, json=coupon(), headers=staff.manager)
    # 2 × 79.00 is under the minimum spend: refused, and nothing written.
    before = (await count(db, Order), await stock_of(db, catalog.sku_m))
    r = await buy(client, [(catalog.sku_m, 2)], coupons=["full200"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_min_spend"
    assert r.json()["error"]["details"] == {"coupon": "FULL200", "min_spend": 20000, "spend": 15800}
    assert (await count(db, Order), await stock_of(db, catalog.sku_m)) == before

    client.cookies.clear()
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 1})
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    quote = await client.post("/api/v1/cart/quote", json={"coupons": ["FULL200"]})
    assert quote.status_code == 200, quote.text
    q = quote.json()
    assert (q["subtotal"], q["discount"], q["shipping_fee"], q["total"]) == (66700, 3000, 0, 63700)
    assert q["applied"] == [{"kind": "coupon", "code": "FULL200", "amount": 3000}]
    # Spread in proportion to the lines: 588.00 and 79.00 share the 30.00.
    assert sorted(i["discount"] for i in q["items"]) == [355, 2645]
    r = await client.post(
        "/api/v1/orders",
        json=checkout_body(coupons=["FULL200"], expected_total=q["total"]),
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["total"] == 63700 and order["discount"] == 3000
    assert sum(i["line_total"] for i in order["items"]) + order["shipping_fee"] == order["total"]
    assert order["promotions"] == [{"kind": "coupon", "code": "FULL200", "amount": 3000}]
    async with db.read() as s:
        row = await s.scalar(select(Coupon).where(Coupon.code == "FULL200"))
        assert row is not None and row.used == 1
        redemption = await s.scalar(select(CouponRedemption))
        assert redemption is not None and redemption.amount == 3000


async def test_a_stale_expected_total_is_refused(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    r = await buy(client, [(catalog.sku_m, 1)], expected_total=7900)
    assert r.status_code == 409 and r.json()["error"]["code"] == "price_changed"
    assert r.json()["error"]["details"]["total"] == 7900 + 1000
    assert await count(db, Order) == 0


async def test_the_window_holds_to_the_second(
    db: Database, catalog: SmallCatalog, staff: Staff, client: httpx.AsyncClient
) -> None:
    start = (utcnow() + dt.timedelta(hours=1)).replace(microsecond=0)
    end = start + dt.timedelta(hours=2)
    body = coupon(starts_at=start.isoformat(), ends_at=end.isoformat())
    assert (await client.post(BASE, json=body, headers=staff.manager)).status_code == 201
    second = dt.timedelta(seconds=1)
    expected = [
        (start - second, "coupon_not_started"),
        (start, "ok"),
        (end - second, "ok"),
        (end, "coupon_expired"),
    ]
    async with db.read() as s:
        for now, outcome in expected:
            try:
                await coupons.usable(s, ["FULL200"], "email:a@example.com", now)
                got = "ok"
            except DomainError as exc:
                got = exc.code
            assert got == outcome, now
    r = await buy(client, [(catalog.sku_pot, 1)], coupons=["FULL200"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_not_started"
    r = await buy(client, [(catalog.sku_pot, 1)], coupons=["NOPE"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "coupon_not_found"


async def test_caps_per_code_and_per_customer_and_giving_back_on_cancel(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    body = coupon(code="ONCE", kind="percent_off", value=10, min_spend=0, max_uses=2)
    await client.post(BASE, json=body, headers=staff.manager)
    first = await buy(client, [(catalog.sku_m, 1)], coupons=["ONCE"])
    assert first.status_code == 201 and first.json()["items"][0]["discount"] == 790
    # The same guest (by e-mail) again: one use per customer.
    before = (await count(db, Order), await stock_of(db, catalog.sku_m))
    r = await buy(client, [(catalog.sku_m, 1)], coupons=["ONCE"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_limit_reached"
    assert (await count(db, Order), await stock_of(db, catalog.sku_m)) == before
    r = await buy(client, [(catalog.sku_m, 1)], coupons=["ONCE"], email="two@example.com")
    assert r.status_code == 201
    r = await buy(client, [(catalog.sku_m, 1)], coupons=["ONCE"], email="three@example.com")
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_used_up"

    # The first order is cancelled unpaid: its use goes back, and a third buyer gets it.
    number = first.json()["number"]
    r = await client.post(
        f"/api/v1/staff/orders/{number}/cancel", json={"reason": "asked"}, headers=staff.clerk
    )
    assert r.status_code == 200, r.text
    r = await buy(client, [(catalog.sku_m, 1)], coupons=["ONCE"], email="three@example.com")
    assert r.status_code == 201, r.text


async def test_stacking_and_scope(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    await client.post(BASE, json=coupon(code="SOLO", min_spend=0), headers=staff.manager)
    await client.post(
        BASE,
        json=coupon(code="SHIP", kind="free_shipping", value=0, min_spend=0, stackable=True),
        headers=staff.manager,
    )
    await client.post(
        BASE,
        json=coupon(code="TEA", kind="percent_off", value=10, min_spend=0, categories=["tea-sets"]),
        headers=staff.manager,
    )
    r = await buy(client, [(catalog.sku_m, 1)], coupons=["SOLO", "SHIP"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_not_stackable"
    r = await buy(client, [(catalog.sku_m, 1)], coupons=["TEA"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_min_spend"
    # Free shipping alone stacks with nothing else and waives the 10.00 fee.
    r = await buy(client, [(catalog.sku_m, 1)], coupons=["SHIP"])
    assert r.status_code == 201 and (r.json()["shipping_fee"], r.json()["total"]) == (0, 7900)
    # A tea-set coupon on a mixed cart touches only the teapot.
    r = await buy(
        client, [(catalog.sku_m, 1), (catalog.sku_pot, 1)], coupons=["TEA"], email="b@example.com"
    )
    assert r.status_code == 201, r.text
    lines = {i["sku"]: i for i in r.json()["items"]}
    assert lines[catalog.sku_m]["discount"] == 0 and lines[catalog.sku_pot]["discount"] == 5880
    too_many = await buy(client, [(catalog.sku_m, 1)], coupons=list("ABCDEF"))
    assert too_many.status_code == 400


async def test_forty_buyers_at_once_for_a_coupon_of_five_uses(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    await client.post(
        f"/api/v1/staff/stock/{catalog.sku_m}/receipts", json={"quantity": 90}, headers=staff.clerk
    )
    body = coupon(code="FIRST5", kind="amount_off", value=1000, min_spend=0, max_uses=5)
    await client.post(BASE, json=body, headers=staff.manager)
    owners = await guest_carts(db, settings, catalog.sku_m, 40)
    outcome = await check_out_at_once(
        db, settings, owners, lambda i: by_transfer(f"c{i}@example.com", coupons=["FIRST5"])
    )
    assert outcome == {"ok": 5, "coupon_used_up": 35}, outcome
    async with db.read() as s:
        row = await s.scalar(select(Coupon).where(Coupon.code == "FIRST5"))
        totals = list(await s.scalars(select(Order.total)))
    assert row is not None and row.used == 5
    assert totals == [7900 + 1000 - 1000] * 5
    on_hand, ledger, _ = await stock_of(db, catalog.sku_m)
    assert on_hand == ledger == 95


async def test_a_refund_gives_back_what_the_returned_units_were_charged(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    body = coupon(code="TEN", kind="amount_off", value=1000, min_spend=0)
    await client.post(BASE, json=body, headers=staff.manager)
    r = await buy(client, [(catalog.sku_m, 3)], coupons=["TEN"])
    order = r.json()
    assert order["items"][0]["line_total"] == 3 * 7900 - 1000
    number = order["number"]
    base = f"/api/v1/staff/orders/{number}"
    steps = [
        ("/payments", {"amount": order["total"], "reference": "T1"}),
        ("/picking", {}),
        ("/ship", {"carrier": "SF", "tracking_number": "SF1"}),
        ("/deliver", {}),
        ("/returns", {"reason": "too big", "items": [{"sku": catalog.sku_m, "quantity": 1}]}),
        ("/returns/receive", {"default": "restock"}),
        ("/refunds", {"reason": "returned"}),
    ]
    refunds = []
    for path, payload in steps:
        r = await client.post(base + path, json=payload, headers=staff.manager)
        assert r.status_code in (200, 201), (path, r.text)
    refunds.append(r.json())
    # One of three units: a third of the discounted line, rounded down; the rest later.
    detail = (await client.get(base, headers=staff.manager)).json()
    assert detail["refunded_total"] == (3 * 7900 - 1000) // 3
    for path, payload in [
        ("/returns", {"reason": "rest"}),
        ("/returns/receive", {"default": "restock"}),
        ("/refunds", {"reason": "returned"}),
    ]:
        r = await client.post(base + path, json=payload, headers=staff.manager)
        assert r.status_code in (200, 201), (path, r.text)
    detail = (await client.get(base, headers=staff.manager)).json()
    assert detail["refunded_total"] == 3 * 7900 - 1000
