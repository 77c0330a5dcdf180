"""Promotions on the storefront and in the product API, on both back ends: the coupon and points
fields at checkout (apply, errors beside the field, the order at the price shown), member
prices, a group buy's progress and joining it, and "bought together" from real orders."""

from __future__ import annotations

import re

import httpx
import pytest

from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff, place_order, window
from tests.test_storefront import FORM_ADDRESS, csrf


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


def checkout_form(page: str, tok: str, **extra: str) -> dict[str, str]:
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key
    return {
        "_csrf_token": tok,
        "idempotency_key": key.group(1),
        "email": "shopper@example.com",
        "payment_method": "bank_transfer",
        **FORM_ADDRESS,
        **extra,
    }


def hidden(page: str, name: str) -> str | None:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    return found.group(1) if found else None


async def test_a_coupon_at_checkout_is_applied_explained_and_charged(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    r = await client.post(
        "/api/v1/staff/coupons",
        json={
            "code": "FULL200",
            "kind": "amount_off",
            "value": 3000,
            "min_spend": 20000,
            **window(length=86400),
        },
        headers=staff.manager,
    )
    assert r.status_code == 201
    tok = await csrf(client)
    await client.post(
        "/cart/add", data={"sku": catalog.sku_pot, "quantity": "1", "_csrf_token": tok}
    )
    page = (await client.get("/checkout")).text
    assert 'name="coupon"' in page and hidden(page, "expected_total") == "58800"

    # A wrong code is named beside the field and the page keeps the full price.
    bad = await client.post("/checkout", data=checkout_form(page, tok, coupon="NOPE", apply="1"))
    assert bad.status_code == 200 and "Coupon NOPE does not exist" in bad.text
    assert hidden(bad.text, "expected_total") == "58800"

    applied = await client.post(
        "/checkout", data=checkout_form(page, tok, coupon="full200", apply="1")
    )
    assert applied.status_code == 200
    assert "Coupon FULL200" in applied.text and "¥30.00" in applied.text
    assert hidden(applied.text, "expected_total") == "55800"
    r = await client.post(
        "/checkout",
        data=checkout_form(page, tok, coupon="full200", expected_total="55800"),
    )
    assert r.status_code == 303, r.text[:1500]
    placed = (await client.get(r.headers["location"])).text
    assert "¥558.00" in placed

    # A total that no longer holds is refused, nothing placed, and the page shows the price now.
    await client.post("/cart/add", data={"sku": catalog.sku_m, "quantity": "1", "_csrf_token": tok})
    page = (await client.get("/checkout")).text
    r = await client.post("/checkout", data=checkout_form(page, tok, expected_total="100"))
    assert r.status_code == 400 and "the price changed" in r.text and "¥89.00" in r.text
    assert hidden(r.text, "expected_total") == str(7900 + 1000)


async def test_member_prices_group_buys_and_bought_together_on_the_product_page(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    # An order in which the teapot and the T-shirt were bought together: the product page
    # and API suggest one from the other.
    await place_order(client, catalog.sku_pot, extra=[(catalog.sku_m, 1)])
    product = (await client.get(f"/api/v1/products/{catalog.teapot}")).json()
    assert [p["slug"] for p in product["bought_together"]] == [catalog.tshirt]
    assert product["related"] == []  # the other tea-set product is delisted
    page = (await client.get(f"/p/{catalog.teapot}", params={"lang": "zh"})).text
    assert "经常一起购买" in page and f'href="/p/{catalog.tshirt}"' in page

    r = await client.post(
        "/api/v1/staff/group-buys",
        json={
            "sku": catalog.sku_pot,
            "group_price": 49900,
            "min_buyers": 3,
            **window(length=86400),
        },
        headers=staff.manager,
    )
    gid = r.json()["id"]
    product = (await client.get(f"/api/v1/products/{catalog.teapot}")).json()
    assert [(g["id"], g["group_price"], g["state"]) for g in product["group_buys"]] == [
        (gid, 49900, "open")
    ]
    page = (await client.get(f"/p/{catalog.teapot}", params={"lang": "en"})).text
    assert "Group buy" in page and "0 joined, 0 paid, 3 needed" in page
    # "Join the group" puts the item in the cart and opens checkout at the group price.
    client.cookies.clear()
    tok = await csrf(client)
    r = await client.post(
        "/cart/add",
        data={"sku": catalog.sku_pot, "quantity": "1", "group": str(gid), "_csrf_token": tok},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/checkout?group={gid}"
    page = (await client.get(r.headers["location"])).text
    assert "Group price" in page and hidden(page, "group_buy") == str(gid)
    form = checkout_form(page, tok, group_buy=str(gid), expected_total="49900")
    r = await client.post("/checkout", data=form)
    assert r.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)<', r.text)
    progress = (await client.get(f"/api/v1/group-buys/{gid}")).json()
    assert progress["joined"] == 1

    # Member prices: a level with 10% off, reached by a registered customer's spending.
    await client.put(
        "/api/v1/staff/membership/levels",
        json={"levels": [{"name": "gold", "min_spend": 0, "discount_percent": 10}]},
        headers=staff.manager,
    )
    client.cookies.clear()
    r = await client.post(
        "/api/v1/customers",
        json={"email": "m@example.com", "password": "a-long-password-1", "name": "赵六"},
    )
    assert r.status_code == 201
    product = (await client.get(f"/api/v1/products/{catalog.tshirt}")).json()
    sku = next(s for s in product["skus"] if s["code"] == catalog.sku_m)
    assert (sku["price"], sku["priced_by"]) == (7110, "member")
    page = (await client.get(f"/p/{catalog.tshirt}")).text
    assert "Member price" in page and "¥71.10" in page
    # A group buy of one size says which.
    r = await client.post(
        "/api/v1/staff/group-buys",
        json={"sku": catalog.sku_l, "group_price": 6900, "min_buyers": 2, **window(length=86400)},
        headers=staff.manager,
    )
    assert r.status_code == 201
    page = (await client.get(f"/p/{catalog.tshirt}")).text
    assert '<p class="group-sku">L </p>' in page
    client.cookies.clear()
    guest = (await client.get(f"/api/v1/products/{catalog.tshirt}")).json()
    assert next(s for s in guest["skus"] if s["code"] == catalog.sku_m)["price"] == 7900
