"""Automatic promotions (满减, "spend 200, save 30"): applied without a code when the cart
qualifies, the best tier only, within the price floor and the stacking rules; the quote, the
order and the coupon's use count agree. On both back ends."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from shopd.db import Database
from shopd.promotions.models import Coupon
from tests.conftest import SmallCatalog, checkout_body
from tests.staffkit import Staff, make_staff
from tests.test_coupons import BASE, coupon

# In the small catalog: the teapot 588.00, a T-shirt 79.00; shipping is free from 99.00.


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def promote(client: httpx.AsyncClient, staff: Staff, **fields: object) -> None:
    r = await client.post(BASE, json=coupon(automatic=True, **fields), headers=staff.manager)
    assert r.status_code == 201, r.text
    assert r.json()["items"][0]["automatic"] is True


async def quote_of(client: httpx.AsyncClient, items: list[tuple[str, int]], **body: object) -> dict:
    client.cookies.clear()
    for sku, qty in items:
        r = await client.post("/api/v1/cart/items", json={"sku": sku, "quantity": qty})
        assert r.status_code == 200, r.text
    r = await client.post("/api/v1/cart/quote", json={"coupons": [], **body})
    assert r.status_code == 200, r.text
    return r.json()


async def test_spend_200_save_30_without_a_code(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    await promote(client, staff, code="AUTO-200-30")
    q = await quote_of(client, [(catalog.sku_pot, 1)])
    assert (q["subtotal"], q["discount"], q["total"]) == (58800, 3000, 55800)
    assert q["applied"] == [{"kind": "coupon", "code": "AUTO-200-30", "amount": 3000}]
    r = await client.post("/api/v1/orders", json=checkout_body(expected_total=q["total"]))
    assert r.status_code == 201, r.text
    assert r.json()["total"] == 55800
    assert r.json()["promotions"] == q["applied"]
    async with db.read() as s:
        used = await s.scalar(select(Coupon.used).where(Coupon.code == "AUTO-200-30"))
    assert used == 1


async def test_under_the_threshold_nothing_is_taken_off(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    await promote(client, staff, code="AUTO-200-30")
    q = await quote_of(client, [(catalog.sku_m, 2)])  # 158.00
    assert q["discount"] == 0 and q["applied"] == []


async def test_of_several_tiers_the_one_that_saves_most_applies(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    await promote(client, staff, code="AUTO-200-30")
    await promote(client, staff, code="AUTO-500-80", value=8000, min_spend=50000)
    await promote(client, staff, code="AUTO-1000-200", value=20000, min_spend=100000)
    q = await quote_of(client, [(catalog.sku_pot, 1)])  # 588.00: the 500 tier, not both
    assert q["applied"] == [{"kind": "coupon", "code": "AUTO-500-80", "amount": 8000}]


async def test_the_price_floor_caps_an_automatic_saving(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    # 500.00 off 588.00 would sell below the 70 % floor: 411.60 is the least it may cost.
    await promote(client, staff, code="AUTO-HUGE", value=50000, min_spend=20000)
    q = await quote_of(client, [(catalog.sku_pot, 1)])
    assert q["subtotal"] - q["discount"] == 41160


async def test_a_typed_code_is_kept_and_the_automatic_one_stacks_only_if_allowed(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    r = await client.post(
        BASE, json=coupon(code="TYPED10", kind="percent_off", value=10), headers=staff.manager
    )
    assert r.status_code == 201, r.text
    await promote(client, staff, code="AUTO-200-30")
    q = await quote_of(client, [(catalog.sku_pot, 1)], coupons=["TYPED10"])
    # Neither stacks: the buyer's code stands alone, though the automatic one would save less.
    assert [a["code"] for a in q["applied"]] == ["TYPED10"]

    r = await client.post(
        BASE,
        json=coupon(code="STACK5", kind="percent_off", value=5, stackable=True),
        headers=staff.manager,
    )
    await promote(client, staff, code="AUTO-STACK", value=1000, stackable=True)
    q = await quote_of(client, [(catalog.sku_pot, 1)], coupons=["STACK5"])
    assert sorted(a["code"] for a in q["applied"]) == ["AUTO-STACK", "STACK5"]


async def test_a_used_up_or_ended_promotion_stops_applying(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    await promote(client, staff, code="AUTO-ONCE", max_uses=1)
    q = await quote_of(client, [(catalog.sku_pot, 1)])
    r = await client.post("/api/v1/orders", json=checkout_body(expected_total=q["total"]))
    assert r.status_code == 201 and r.json()["discount"] == 3000
    q = await quote_of(client, [(catalog.sku_pot, 1)])
    assert q["applied"] == []
    r = await client.post("/api/v1/orders", json=checkout_body(expected_total=q["total"]))
    assert r.status_code == 201 and r.json()["discount"] == 0


async def test_an_automatic_promotion_is_one_code_not_a_batch(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    body = coupon(code=None, count=3, prefix="A-", automatic=True)
    r = await client.post(BASE, json=body, headers=staff.manager)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_coupon"
