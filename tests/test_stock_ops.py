"""Stock operations through the staff API: receipts, adjustments, thresholds and the low-stock
list, stocktakes, the ledger, and sold-out products hidden or shown per shop setting."""

from __future__ import annotations

import httpx
import pytest

from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff, place_order
from tests.test_checkout import stock_of


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def test_receive_and_adjust_with_reasons_and_roles(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    base = f"/api/v1/staff/stock/{catalog.sku_m}"
    r = await client.post(
        f"{base}/receipts", json={"quantity": 20, "reference": "PO-2026-17"}, headers=staff.clerk
    )
    assert r.status_code == 201 and r.json() == {"sku": catalog.sku_m, "on_hand": 30}

    damage = {"delta": -2, "reason": "damage", "note": "water"}
    r = await client.post(f"{base}/adjustments", json=damage, headers=staff.clerk)
    assert r.status_code == 403
    r = await client.post(f"{base}/adjustments", json=damage, headers=staff.manager)
    assert r.status_code == 201 and r.json()["on_hand"] == 28
    for bad in (
        {"delta": 2, "reason": "damage"},  # damage only takes away
        {"delta": -1, "reason": "found"},  # found only adds
        {"delta": 0, "reason": "adjustment"},
        {"delta": -1, "reason": "theft?"},
        {"delta": -29, "reason": "loss"},  # below zero
        {"delta": 10**7, "reason": "found"},
        {"delta": "3", "reason": "found", "extra": 1},
    ):
        r = await client.post(f"{base}/adjustments", json=bad, headers=staff.manager)
        assert r.status_code in (400, 409), bad
    r = await client.post(f"{base}/receipts", json={"quantity": 0}, headers=staff.clerk)
    assert r.status_code == 400
    r = await client.post(
        "/api/v1/staff/stock/NOPE/receipts", json={"quantity": 1}, headers=staff.clerk
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_sku"

    ledger = await client.get(f"{base}/ledger", headers=staff.clerk)
    body = ledger.json()
    assert body["on_hand"] == 28 and body["ledger_sum"] == 28
    assert [m["reason"] for m in body["items"]] == ["damage", "receipt", "initial"]
    assert body["items"][1]["reference"] == "PO-2026-17"
    assert body["items"][0]["actor"] == "staff:manager.one"
    assert await stock_of(db, catalog.sku_m) == (28, 28, 0)


async def test_thresholds_and_the_low_stock_list(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    r = await client.get("/api/v1/staff/stock", params={"low": "true"}, headers=staff.clerk)
    low = [x["sku"] for x in r.json()["items"]]
    # Default threshold 5: XL (0), POT (3) and L (5) are low; M (10) and OLD (50) are not.
    assert low == [catalog.sku_xl, catalog.sku_pot, catalog.sku_l]
    url = f"/api/v1/staff/stock/{catalog.sku_m}/threshold"
    assert (await client.put(url, json={"threshold": 12}, headers=staff.clerk)).status_code == 403
    r = await client.put(url, json={"threshold": 12}, headers=staff.manager)
    assert r.status_code == 200
    r = await client.get("/api/v1/staff/stock", params={"low": "true"}, headers=staff.clerk)
    assert catalog.sku_m in [x["sku"] for x in r.json()["items"]]
    r = await client.get("/api/v1/staff/stock", params={"q": "tee-"}, headers=staff.clerk)
    assert {x["sku"] for x in r.json()["items"]} == {catalog.sku_m, catalog.sku_l, catalog.sku_xl}


async def test_stocktake_count_review_post(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    r = await client.post(
        "/api/v1/staff/stocktakes", json={"note": "月底盘点"}, headers=staff.clerk
    )
    assert r.status_code == 201
    take = r.json()["id"]
    url = f"/api/v1/staff/stocktakes/{take}"
    counts = {
        "counts": [{"sku": catalog.sku_m, "counted": 8}, {"sku": catalog.sku_pot, "counted": 4}]
    }
    r = await client.put(f"{url}/counts", json=counts, headers=staff.clerk)
    assert r.status_code == 200
    review = {x["sku"]: x for x in r.json()["lines"]}
    assert review[catalog.sku_m]["difference"] == -2 and review[catalog.sku_pot]["difference"] == 1
    # Recount replaces the earlier count.
    recount = {"counts": [{"sku": catalog.sku_m, "counted": 9}]}
    r = await client.put(f"{url}/counts", json=recount, headers=staff.clerk)
    assert {x["sku"]: x["counted"] for x in r.json()["lines"]}[catalog.sku_m] == 9

    # A sale between counting and posting: the difference is taken against the books at posting.
    await place_order(client, catalog.sku_m, 1)
    assert (await client.post(f"{url}/post", headers=staff.clerk)).status_code == 403
    r = await client.post(f"{url}/post", headers=staff.manager)
    assert r.status_code == 200 and r.json()["status"] == "posted"
    posted = {x["sku"]: x for x in r.json()["lines"]}
    assert posted[catalog.sku_m]["on_hand"] == 9 and posted[catalog.sku_m]["difference"] == 0
    assert posted[catalog.sku_pot]["difference"] == 1
    assert await stock_of(db, catalog.sku_m) == (9, 9, 1)
    on_hand, ledger, _ = await stock_of(db, catalog.sku_pot)
    assert on_hand == ledger == 4

    r = await client.put(f"{url}/counts", json=recount, headers=staff.clerk)
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    assert (await client.post(f"{url}/post", headers=staff.manager)).status_code == 409
    bad = {"counts": [{"sku": catalog.sku_m, "counted": -1}]}
    r = await client.post("/api/v1/staff/stocktakes", json={}, headers=staff.clerk)
    other = r.json()["id"]
    r = await client.put(f"/api/v1/staff/stocktakes/{other}/counts", json=bad, headers=staff.clerk)
    assert r.status_code == 400
    r = await client.post(f"/api/v1/staff/stocktakes/{other}/post", headers=staff.manager)
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_stocktake"
    r = await client.post(f"/api/v1/staff/stocktakes/{other}/cancel", headers=staff.clerk)
    assert r.json()["status"] == "cancelled"
    listed = await client.get("/api/v1/staff/stocktakes", headers=staff.clerk)
    assert [t["status"] for t in listed.json()] == ["cancelled", "posted"]


async def test_sold_out_shown_or_hidden_and_back_when_stock_returns(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    async def slugs() -> list[str]:
        r = await client.get("/api/v1/products")
        return sorted(p["slug"] for p in r.json()["items"])

    # Sell the teapot out.
    await place_order(client, catalog.sku_pot, 3)
    assert await slugs() == [catalog.tshirt, catalog.teapot]
    teapot = (await client.get(f"/api/v1/products/{catalog.teapot}")).json()
    assert teapot["skus"][0]["available"] == 0

    url = "/api/v1/staff/settings/hide_sold_out"
    assert (await client.put(url, json={"value": True}, headers=staff.manager)).status_code == 403
    assert (await client.put(url, json={"value": "yes"}, headers=staff.admin)).status_code == 400
    r = await client.put(url, json={"value": True}, headers=staff.admin)
    assert r.status_code == 200
    assert await slugs() == [catalog.tshirt]
    assert (await client.get(f"/api/v1/products/{catalog.teapot}")).status_code == 404

    await client.post(
        f"/api/v1/staff/stock/{catalog.sku_pot}/receipts", json={"quantity": 2}, headers=staff.clerk
    )
    assert await slugs() == [catalog.tshirt, catalog.teapot]
    settings = await client.get("/api/v1/staff/settings", headers=staff.manager)
    assert settings.json()["hide_sold_out"] is True
    r = await client.put("/api/v1/staff/settings/no_such", json={"value": 1}, headers=staff.admin)
    assert r.status_code == 404
