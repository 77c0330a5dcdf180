"""A product's sales for the back office, and the session facts the TUI builds on."""

from __future__ import annotations

import httpx

from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import PASSWORD, make_staff, order_in, place_order


async def test_sales_per_sku_leave_out_cancelled_orders_and_returned_units(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    staff = await make_staff(client, db)
    await place_order(client, catalog.sku_m, 2, extra=[(catalog.sku_l, 1)])  # 2 M + 1 L
    await order_in(client, staff, catalog.sku_m, "cancelled")  # not a sale
    await order_in(client, staff, catalog.sku_m, "returned")  # sold, then sent back
    await place_order(client, catalog.sku_pot)  # another product

    r = await client.get(f"/api/v1/staff/products/{catalog.tshirt}/sales", headers=staff.clerk)
    assert r.status_code == 200, r.text
    d = r.json()
    per_sku = {s["sku"]: (s["units"], s["revenue"], s["orders"]) for s in d["skus"]}
    assert per_sku == {catalog.sku_l: (1, 7900, 1), catalog.sku_m: (2, 2 * 7900, 2)}
    assert (d["units"], d["revenue"], d["orders"], d["days"]) == (3, 3 * 7900, 2, 30)


async def test_sales_answer_bad_input_with_stable_codes(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    staff = await make_staff(client, db)
    base = f"/api/v1/staff/products/{catalog.tshirt}/sales"
    for params, status in (({"days": "0"}, 400), ({"days": "x"}, 400), ({"days": "99999"}, 400)):
        r = await client.get(base, params=params, headers=staff.clerk)
        assert r.status_code == status and r.json()["error"]["code"] == "validation_error", r.text
    r = await client.get("/api/v1/staff/products/no-such/sales", headers=staff.clerk)
    assert r.status_code == 404
    r = await client.get(base)
    assert r.status_code == 401


async def test_the_session_tells_the_shop_clock_and_lists_carry_allowed_actions(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    staff = await make_staff(client, db)
    r = await client.post(
        "/api/v1/staff/session", json={"username": "clerk.one", "password": PASSWORD}
    )
    assert (r.json()["shop_timezone"], r.json()["currency"]) == ("Asia/Shanghai", "CNY")
    await order_in(client, staff, catalog.sku_m, "picking")
    page = (await client.get("/api/v1/staff/orders", headers=staff.clerk)).json()
    assert "ship" in page["items"][0]["allowed_actions"]
