"""Group buys on both back ends: set-up rules; joining by checkout; paid orders held until the
group succeeds; a failed group cancels every order, puts the stock back and owes each payer a
refund (which, once paid out, takes back the points); a full group closes; 30 buyers at once
for 5 places."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from shopd.config import Settings
from shopd.customers.models import Customer
from shopd.db import Database, utcnow
from shopd.orders import group_buy_settlement
from shopd.orders.models import Order
from shopd.promotions.models import GroupBuy, GroupBuyMember
from tests.conftest import SmallCatalog, checkout_body
from tests.crowd import by_transfer, check_out_at_once, guest_carts
from tests.staffkit import Staff, make_staff
from tests.test_checkout import count, stock_of
from tui.orders import order_text

BASE = "/api/v1/staff/group-buys"
POT = 58800


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


def group(sku: str, **fields: object) -> dict[str, object]:
    now = utcnow()
    body: dict[str, object] = {
        "sku": sku,
        "group_price": 49900,
        "min_buyers": 2,
        "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
        "title": "三人团",
    }
    body.update(fields)
    return body


async def join(
    client: httpx.AsyncClient, group_id: int, email: str, sku: str, **extra: object
) -> httpx.Response:
    client.cookies.clear()
    r = await client.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1})
    assert r.status_code == 200, r.text
    return await client.post(
        "/api/v1/orders", json=checkout_body(email=email, group_buy=group_id, **extra)
    )


async def pay(client: httpx.AsyncClient, staff: Staff, order: dict) -> None:
    r = await client.post(
        f"/api/v1/staff/orders/{order['number']}/payments",
        json={"amount": order["total"], "reference": "T"},
        headers=staff.clerk,
    )
    assert r.status_code == 200, r.text


async def settle_after_deadline(db: Database, settings: Settings, group_id: int) -> str:
    async with db.write() as s:
        g = await s.get(GroupBuy, group_id)
        assert g is not None
        done = await group_buy_settlement.settle(
            s, settings, now=g.ends_at + dt.timedelta(seconds=1)
        )
        await s.commit()
    return dict(done)[group_id]


async def test_setting_up_a_group_buy_checks_every_rule(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    assert (
        await client.post(BASE, json=group(catalog.sku_pot), headers=staff.clerk)
    ).status_code == 403
    refusals = [
        (group(catalog.sku_pot, group_price=POT), 400, "invalid_group_price"),
        (group(catalog.sku_pot, group_price=40000), 400, "below_price_floor"),
        (group(catalog.sku_pot, min_buyers=1), 400, "validation_error"),
        (group(catalog.sku_pot, min_buyers=5, max_buyers=3), 400, "invalid_group_buy"),
        (group(catalog.sku_pot, ends_at=utcnow().isoformat()), 400, "invalid_window"),
        (group("NOPE"), 404, "sku_not_found"),
    ]
    for body, status, code in refusals:
        r = await client.post(BASE, json=body, headers=staff.manager)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
    r = await client.post(
        BASE,
        json=group(catalog.sku_pot, group_price=40000, floor_exempt=True),
        headers=staff.manager,
    )
    assert r.status_code == 201 and r.json()["state"] == "open"
    public = (await client.get(f"/api/v1/group-buys/{r.json()['id']}")).json()
    assert (public["group_price"], public["regular_price"], public["joined"]) == (40000, POT, 0)
    assert (await client.get("/api/v1/group-buys/9999")).status_code == 404


async def test_a_group_that_succeeds_holds_its_orders_until_then(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    gid = (await client.post(BASE, json=group(catalog.sku_pot), headers=staff.manager)).json()["id"]
    # What a group order may not be: mixed with other items, cash on delivery, with a coupon.
    client.cookies.clear()
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 1})
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    r = await client.post("/api/v1/orders", json=checkout_body(group_buy=gid))
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_buy_cart"
    r = await join(client, gid, "a@example.com", catalog.sku_pot, payment_method="cod")
    assert r.status_code == 400 and r.json()["error"]["code"] == "group_buy_prepaid"
    r = await join(client, gid, "a@example.com", catalog.sku_pot, coupons=["X"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_buy_no_coupons"
    assert await count(db, Order) == 0

    first = await join(client, gid, "a@example.com", catalog.sku_pot)
    assert first.status_code == 201, first.text
    assert first.json()["items"][0]["unit_price"] == 49900 and first.json()["group_buy"] == gid
    again = await join(client, gid, "a@example.com", catalog.sku_pot)
    assert again.status_code == 409 and again.json()["error"]["code"] == "group_buy_joined"
    second = await join(client, gid, "b@example.com", catalog.sku_pot)
    assert second.status_code == 201
    for order in (first.json(), second.json()):
        await pay(client, staff, order)
    progress = (await client.get(f"/api/v1/group-buys/{gid}")).json()
    assert (progress["joined"], progress["paid"], progress["state"]) == (2, 2, "open")

    # Paid, but held: nothing ships before the group has succeeded.
    number = first.json()["number"]
    r = await client.post(f"/api/v1/staff/orders/{number}/picking", headers=staff.clerk)
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_buy_pending"
    detail = (await client.get(f"/api/v1/staff/orders/{number}", headers=staff.clerk)).json()
    assert detail["ready_at"] is None and "start_picking" not in detail["allowed_actions"]
    # The TUI's order screen says why it waits and what the group price saved.
    shown = order_text(detail, ZoneInfo("Asia/Shanghai"))
    assert f"group buy #{gid} · held until it succeeds" in shown
    assert f"saved: group buy {catalog.sku_pot} CNY 89.00" in shown
    to_ship = await client.get("/api/v1/staff/orders?dispatch=waiting", headers=staff.clerk)
    assert to_ship.json()["items"] == []

    assert await settle_after_deadline(db, settings, gid) == "succeeded"
    detail = (await client.get(f"/api/v1/staff/orders/{number}", headers=staff.clerk)).json()
    assert "start_picking" in detail["allowed_actions"]
    to_ship = await client.get("/api/v1/staff/orders?dispatch=waiting", headers=staff.clerk)
    assert {o["number"] for o in to_ship.json()["items"]} == {number, second.json()["number"]}
    r = await client.post(f"/api/v1/staff/orders/{number}/picking", headers=staff.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["ready_at"] is not None
    assert (await client.get(f"/api/v1/group-buys/{gid}")).json()["state"] == "succeeded"
    # Settled once: a second round changes nothing.
    async with db.write() as s:
        assert (
            await group_buy_settlement.settle(s, settings, now=utcnow() + dt.timedelta(days=1))
            == []
        )


async def test_a_failed_group_cancels_and_refunds_everyone(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    gid = (
        await client.post(BASE, json=group(catalog.sku_pot, min_buyers=3), headers=staff.manager)
    ).json()["id"]
    # A registered buyer who pays (and earns points), and a guest who never pays.
    client.cookies.clear()
    r = await client.post(
        "/api/v1/customers",
        json={"email": "paid@example.com", "password": "a-long-password-1", "name": "王五"},
    )
    assert r.status_code == 201
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": 1})
    r = await client.post("/api/v1/orders", json=checkout_body(email=None, group_buy=gid))
    assert r.status_code == 201, r.text
    paid = r.json()
    await pay(client, staff, paid)
    unpaid = (await join(client, gid, "late@example.com", catalog.sku_pot)).json()
    assert (await stock_of(db, catalog.sku_pot))[0] == 1

    assert await settle_after_deadline(db, settings, gid) == "failed"
    for order in (paid, unpaid):
        detail = (
            await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
        ).json()
        assert detail["status"] == "cancelled"
    refunds = (
        await client.get(f"/api/v1/staff/orders/{paid['number']}", headers=staff.clerk)
    ).json()["refunds"]
    assert [(f["amount"], f["status"]) for f in refunds] == [(49900, "pending")]
    on_hand, ledger, _ = await stock_of(db, catalog.sku_pot)
    assert on_hand == ledger == 3
    async with db.read() as s:
        members = list(await s.scalars(select(GroupBuyMember.buyer)))
        customer = await s.scalar(select(Customer).where(Customer.email == "paid@example.com"))
    assert len(members) == 2  # the record of who joined stays
    assert customer is not None and customer.points == 499
    # The refund is paid out: the points it earned go with it.
    r = await client.post(
        f"/api/v1/staff/orders/{paid['number']}/refunds/{refunds[0]['id']}/settle",
        headers=staff.manager,
    )
    assert r.status_code == 200, r.text
    async with db.read() as s:
        customer = await s.scalar(select(Customer).where(Customer.email == "paid@example.com"))
    assert customer is not None and (customer.points, customer.lifetime_spend) == (0, 0)


async def test_a_full_group_closes_and_settles_once_everyone_has_paid(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    body = group(catalog.sku_pot, min_buyers=2, max_buyers=2)
    gid = (await client.post(BASE, json=body, headers=staff.manager)).json()["id"]
    a = (await join(client, gid, "a@example.com", catalog.sku_pot)).json()
    b = (await join(client, gid, "b@example.com", catalog.sku_pot)).json()
    r = await join(client, gid, "c@example.com", catalog.sku_pot)
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_buy_closed"
    assert (await client.get(f"/api/v1/group-buys/{gid}")).json()["state"] == "full"
    # A member who cancels unpaid frees the place.
    r = await client.post(
        f"/api/v1/staff/orders/{b['number']}/cancel", json={"reason": "x"}, headers=staff.clerk
    )
    assert r.status_code == 200
    c = await join(client, gid, "c@example.com", catalog.sku_pot)
    assert c.status_code == 201, c.text
    await pay(client, staff, a)
    r = await client.post(f"{BASE}/settle", headers=staff.manager)
    assert r.json() == []  # one member still to pay
    await pay(client, staff, c.json())
    r = await client.post(f"{BASE}/settle", headers=staff.manager)
    assert r.status_code == 200 and r.json() == [{"group_buy": gid, "outcome": "succeeded"}]
    assert (await client.post(f"{BASE}/settle", headers=staff.clerk)).status_code == 403


async def test_thirty_buyers_at_once_for_five_places(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    await client.post(
        f"/api/v1/staff/stock/{catalog.sku_pot}/receipts",
        json={"quantity": 97},
        headers=staff.clerk,
    )
    body = group(catalog.sku_pot, min_buyers=2, max_buyers=5)
    gid = (await client.post(BASE, json=body, headers=staff.manager)).json()["id"]
    owners = await guest_carts(db, settings, catalog.sku_pot, 30)
    outcome = await check_out_at_once(
        db, settings, owners, lambda i: by_transfer(f"g{i}@example.com", group_buy=gid)
    )
    assert outcome == {"ok": 5, "group_buy_closed": 25}, outcome
    async with db.read() as s:
        g = await s.get(GroupBuy, gid)
        members = list(await s.scalars(select(GroupBuyMember.order_id)))
    assert g is not None and g.joined == 5 and len(members) == 5
    on_hand, ledger, _ = await stock_of(db, catalog.sku_pot)
    assert on_hand == ledger == 95
