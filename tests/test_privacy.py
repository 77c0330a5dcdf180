"""A customer downloads everything the shop keeps about them, and can have it erased: orders
stay for the accounts with the personal fields blanked."""

from __future__ import annotations

import httpx

from shopd.db import Database
from tests.conftest import ADDRESS, SmallCatalog, checkout_body
from tests.staffkit import make_staff, staff_call
from tests.test_customers import PASSWORD, register
from tests.test_storefront import csrf


async def order_as_customer(client: httpx.AsyncClient, sku: str) -> dict:
    r = await client.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1})
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/orders", json=checkout_body(email="zhang@example.com"))
    assert r.status_code == 201, r.text
    return r.json()


async def test_download_then_erase_keeps_the_order_without_the_person(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    await register(client)
    r = await client.post("/api/v1/me/addresses", json=dict(ADDRESS))
    assert r.status_code == 201, r.text
    order = await order_as_customer(client, catalog.sku_m)
    data = (await client.get("/api/v1/me/data")).json()
    assert data["account"]["email"] == "zhang@example.com"
    assert data["addresses"][0]["line1"] == ADDRESS["line1"]
    [mine] = data["orders"]
    assert mine["number"] == order["number"] and mine["lines"][0]["sku"] == catalog.sku_m
    assert mine["ship_to"]["name"] == ADDRESS["recipient"]

    r = await client.post("/api/v1/me/erase", json={"password": "wrong-password"})
    assert r.status_code == 401
    r = await client.post("/api/v1/me/erase", json={"password": PASSWORD})
    assert r.status_code == 409 and r.json()["error"]["code"] == "orders_in_progress"
    assert r.json()["error"]["details"]["orders"] == [order["number"]]
    staff = await make_staff(client, db)
    assert (await staff_call(client, staff.manager, "cancel", order)).status_code == 200

    r = await client.post("/api/v1/me/erase", json={"password": PASSWORD})
    assert r.status_code == 204, r.text
    assert (await client.get("/api/v1/me")).status_code == 401
    login = {"email": "zhang@example.com", "password": PASSWORD}
    assert (await client.post("/api/v1/session", json=login)).status_code == 401
    kept = (await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)).json()
    assert kept["total"] == order["total"] and kept["items"][0]["sku"] == catalog.sku_m
    text = str(kept)
    for personal in ("zhang@example.com", ADDRESS["recipient"], ADDRESS["line1"], ADDRESS["phone"]):
        assert personal not in text, personal
    # The address is free again.
    client.cookies.clear()
    await register(client)


async def test_the_account_page_offers_both(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    await register(client)
    page = await client.get("/account")
    assert 'href="/account/data"' in page.text and 'action="/account/erase"' in page.text
    r = await client.get("/account/data")
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.json()["account"]["email"] == "zhang@example.com"
    token = await csrf(client, "/account")
    r = await client.post("/account/erase", data={"password": "nope", "_csrf_token": token})
    assert r.status_code == 400 and "password is wrong" in r.text
    r = await client.post("/account/erase", data={"password": PASSWORD, "_csrf_token": token})
    assert r.status_code == 200 and "Your account is erased." in r.text
    assert (await client.get("/account")).status_code in (302, 303)
