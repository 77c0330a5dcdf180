"""The order state machine through the staff API: every legal and illegal transition, per role,
with stock, refunds, notes, contact changes and the dispatch promise."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import httpx
import pytest
from sqlalchemy import func, select, update

from shopd.config import Settings
from shopd.db import Database, utcnow
from shopd.inventory.models import StockMovement
from shopd.notifications.models import OutboxMessage
from shopd.orders import lifecycle
from shopd.orders.models import Order, OrderEvent, Refund
from tests.conftest import SmallCatalog
from tests.staffkit import PATH_TO, Staff, make_staff, order_in, place_order, staff_call
from tests.test_checkout import stock_of

ACTIONS = [
    "confirm_payment",
    "start_picking",
    "ship",
    "deliver",
    "complete",
    "cancel",
    "request_return",
    "receive_return",
    "reject_return",
    "refund",
]
# What each status allows for a bank-transfer order; everything else must be refused.
LEGAL: dict[str, set[str]] = {
    "pending_payment": {"confirm_payment", "cancel"},
    "paid": {"start_picking", "cancel"},
    "picking": {"ship", "cancel"},
    "shipped": {"deliver"},
    "delivered": {"complete", "request_return"},
    "completed": {"request_return"},
    "return_requested": {"receive_return", "reject_return"},
    "returned": {"refund"},
    "refunded": set(),  # everything was returned already
    "cancelled": set(),
}
EXPECTED_AFTER = {
    "confirm_payment": "paid",
    "start_picking": "picking",
    "ship": "shipped",
    "deliver": "delivered",
    "complete": "completed",
    "cancel": "cancelled",
    "request_return": "return_requested",
    "receive_return": "returned",
    "reject_return": "completed",
    "refund": "refunded",
}


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


@pytest.fixture
async def stocked(client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff) -> SmallCatalog:
    r = await client.post(
        f"/api/v1/staff/stock/{catalog.sku_m}/receipts",
        json={"quantity": 500, "reference": "PO-1"},
        headers=staff.clerk,
    )
    assert r.status_code == 201, r.text
    return catalog


async def _events(db: Database, number: str) -> int:
    async with db.read() as s:
        return (
            await s.scalar(
                select(func.count())
                .select_from(OrderEvent)
                .join(Order, Order.id == OrderEvent.order_id)
                .where(Order.number == number)
            )
            or 0
        )


@pytest.mark.parametrize("status", list(PATH_TO))
async def test_every_action_from_every_status(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff, status: str
) -> None:
    for action in ACTIONS:
        order = await order_in(client, staff, stocked.sku_m, status)
        before_stock = await stock_of(db, stocked.sku_m)
        before_events = await _events(db, order["number"])  # type: ignore[arg-type]
        r = await staff_call(client, staff.manager, action, order)
        if action in LEGAL[status]:
            assert r.status_code in (200, 201), (status, action, r.text)
            assert r.json()["status"] == EXPECTED_AFTER[action]
        else:
            assert r.status_code == 409, (status, action, r.text)
            assert r.json()["error"]["code"] == "invalid_transition", (status, action)
            after = await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
            assert after.json()["status"] == status
            assert await stock_of(db, stocked.sku_m) == before_stock
            assert await _events(db, order["number"]) == before_events  # type: ignore[arg-type]


def test_the_transition_table_matches_the_documented_lifecycle() -> None:
    t = lifecycle.TRANSITIONS
    assert set(t) == set(PATH_TO)
    chain = ["pending_payment", "paid", "picking", "shipped", "delivered", "completed"]
    for a, b in itertools.pairwise(chain):
        assert b in t[a]
    assert {s for s, targets in t.items() if "cancelled" in targets} == {
        "pending_payment",
        "paid",
        "picking",
    }
    assert t["cancelled"] == frozenset()


ROLE_RULES = [
    # (action, status the order is in, lowest role allowed)
    ("confirm_payment", "pending_payment", "clerk"),
    ("start_picking", "paid", "clerk"),
    ("ship", "picking", "clerk"),
    ("deliver", "shipped", "clerk"),
    ("complete", "delivered", "clerk"),
    ("cancel", "pending_payment", "clerk"),
    ("cancel", "paid", "manager"),  # money goes back
    ("request_return", "delivered", "clerk"),
    ("receive_return", "return_requested", "clerk"),
    ("reject_return", "return_requested", "manager"),
    ("refund", "returned", "manager"),
]


@pytest.mark.parametrize(("action", "status", "minimum"), ROLE_RULES)
async def test_roles(
    client: httpx.AsyncClient,
    db: Database,
    stocked: SmallCatalog,
    staff: Staff,
    action: str,
    status: str,
    minimum: str,
) -> None:
    rank = ["clerk", "manager", "admin"]
    for role in rank:
        order = await order_in(client, staff, stocked.sku_m, status)
        r = await staff_call(client, staff.of(role), action, order)
        if rank.index(role) >= rank.index(minimum):
            assert r.status_code in (200, 201), (role, action, r.text)
        else:
            assert r.status_code == 403, (role, action, r.text)
            assert r.json()["error"]["code"] == "forbidden"
            again = await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
            assert again.json()["status"] == status


async def test_staff_endpoints_need_a_staff_token(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    checked = 0
    customer = await client.post(
        "/api/v1/customers", json={"email": "c@example.com", "password": "long-password-1"}
    )
    cookie_token = customer.json()["token"]
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1/staff/") or path == "/api/v1/staff/session":
            continue
        concrete = (
            path.replace("{number}", "20260101-XXXX")
            .replace("{sku}", "TEE-M")
            .replace("{slug}", "cotton-tee")
            .replace("{code}", "TEE-M")
            .replace("{username}", "nobody")
            .replace("{key}", "hide_sold_out")
            .replace("{take_id}", "1")
            .replace("{customer_id}", "1")
        )
        # Every numeric id ({take_id}, {refund_id}, {sale_id}, …): any number will do.
        concrete = re.sub(r"\{\w+_id\}", "1", concrete)
        assert "{" not in concrete, f"no sample value for a parameter of {path}"
        for method in methods:
            for headers in ({}, {"Authorization": f"Bearer {cookie_token}"}):
                r = await client.request(method.upper(), concrete, headers=headers, json={})
                assert r.status_code == 401, (method, path, r.text)
                assert r.json()["error"]["code"] == "not_authenticated"
                checked += 1
    assert checked > 40


async def test_cancel_puts_stock_back_and_a_paid_order_gets_a_refund_record(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff
) -> None:
    start = await stock_of(db, stocked.sku_m)
    unpaid = await place_order(client, stocked.sku_m, 2)
    paid = await order_in(client, staff, stocked.sku_m, "paid", quantity=3)
    assert (await stock_of(db, stocked.sku_m))[0] == start[0] - 5

    r = await staff_call(client, staff.clerk, "cancel", unpaid)
    assert r.status_code == 200 and r.json()["refunds"] == []
    r = await staff_call(client, staff.manager, "cancel", paid)
    body = r.json()
    assert body["status"] == "cancelled" and body["cancelled_at"]
    assert [(x["amount"], x["status"]) for x in body["refunds"]] == [(paid["total"], "pending")]
    on_hand, ledger, _ = await stock_of(db, stocked.sku_m)
    assert on_hand == start[0] and ledger == on_hand
    async with db.read() as s:
        cancels = await s.scalar(
            select(func.sum(StockMovement.delta)).where(StockMovement.reason == "cancel")
        )
    assert cancels == 5

    # The refunds owed across orders list it, with its order, until it is settled.
    owed = await client.get("/api/v1/staff/orders/refunds", headers=staff.clerk)
    assert [(x["order_number"], x["amount"], x["method"]) for x in owed.json()] == [
        (paid["number"], paid["total"], "bank_transfer")
    ]
    # The pending refund is settled by a manager once the money went back.
    refund_id = body["refunds"][0]["id"]
    url = f"/api/v1/staff/orders/{paid['number']}/refunds/{refund_id}/settle"
    assert (await client.post(url, headers=staff.clerk)).status_code == 403
    r = await client.post(url, headers=staff.manager)
    assert r.status_code == 200 and r.json()["refunded_total"] == paid["total"]
    again = await client.post(url, headers=staff.manager)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    assert (await client.get("/api/v1/staff/orders/refunds", headers=staff.clerk)).json() == []
    done = await client.get("/api/v1/staff/orders/refunds?status=completed", headers=staff.clerk)
    assert [x["id"] for x in done.json()] == [refund_id]
    wrong = await client.get("/api/v1/staff/orders/refunds?status=owed", headers=staff.clerk)
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_status"


async def test_cash_on_delivery_goes_to_picking_unpaid_and_is_paid_on_delivery(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff
) -> None:
    order = await place_order(client, stocked.sku_m, payment_method="cod")
    r = await staff_call(client, staff.clerk, "confirm_payment", order)
    assert r.status_code == 409  # nothing to confirm: the courier collects
    for action in ("start_picking", "ship", "deliver"):
        r = await staff_call(client, staff.clerk, action, order)
        assert r.status_code == 200, (action, r.text)
    body = r.json()
    assert body["status"] == "delivered" and body["paid_at"] is not None
    assert [(p["method"], p["status"], p["amount"]) for p in body["payments"]] == [
        ("cod", "succeeded", order["total"])
    ]
    # A bank-transfer order cannot skip payment the same way.
    other = await place_order(client, stocked.sku_m)
    r = await staff_call(client, staff.manager, "start_picking", other)
    assert r.status_code == 409


async def test_bank_transfer_amount_must_match(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff
) -> None:
    order = await place_order(client, stocked.sku_m)
    url = f"/api/v1/staff/orders/{order['number']}/payments"
    for amount in (order["total"] - 1, order["total"] + 100, 0):  # type: ignore[operator]
        r = await client.post(url, json={"amount": amount, "reference": "X"}, headers=staff.clerk)
        assert r.status_code == 409 and r.json()["error"]["code"] == "amount_mismatch"
    r = await client.post(url, json={"amount": -5, "reference": "X"}, headers=staff.clerk)
    assert r.status_code == 400
    detail = await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
    assert detail.json()["status"] == "pending_payment" and detail.json()["payments"] == []
    r = await client.post(
        url, json={"amount": order["total"], "reference": "ICBC 0042"}, headers=staff.clerk
    )
    assert r.status_code == 200
    assert r.json()["payments"][0]["external_reference"] == "ICBC 0042"
    inquiry = await client.get(
        f"/api/v1/orders/{order['number']}", params={"email": "guest@example.com"}
    )
    assert inquiry.json()["paid"] is True and inquiry.json()["status"] == "paid"


async def test_notes_and_contact_changes_until_the_slip_is_printed(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff
) -> None:
    order = await order_in(client, staff, stocked.sku_m, "paid")
    base = f"/api/v1/staff/orders/{order['number']}"
    r = await client.post(
        f"{base}/notes", json={"body": "客户要求改地址 / wants a new address"}, headers=staff.clerk
    )
    assert r.status_code == 201
    note = r.json()["notes"][0]
    assert note["author"] == "staff:clerk.one" and "改地址" in note["body"]

    new_address = {
        "recipient": "李娜",
        "phone": "+86 139 0000 1111",
        "region": "上海市",
        "city": "上海市",
        "line1": "浦东新区世纪大道 1 号",
    }
    r = await client.patch(
        f"{base}/contact",
        json={"address": new_address, "phone": "139-0000-1111"},
        headers=staff.clerk,
    )
    assert r.status_code == 200, r.text
    assert r.json()["ship_to"]["recipient"] == "李娜" and r.json()["phone"] == "139-0000-1111"
    r = await client.patch(f"{base}/contact", json={"email": "not-an-email"}, headers=staff.clerk)
    assert r.status_code == 400

    assert (await client.post(f"{base}/picking", headers=staff.clerk)).status_code == 200
    r = await client.post(f"{base}/print", headers=staff.clerk)
    assert r.status_code == 200 and r.json()["printed_at"]
    assert "edit_contact" not in r.json()["allowed_actions"]
    r = await client.patch(f"{base}/contact", json={"address": new_address}, headers=staff.clerk)
    assert r.status_code == 409 and r.json()["error"]["code"] == "order_locked"

    audit = await client.get(
        "/api/v1/staff/audit", params={"target_id": order["number"]}, headers=staff.manager
    )
    actions = [e["action"] for e in audit.json()["items"]]
    assert "order.contact" in actions and "order.note" in actions
    contact = next(e for e in audit.json()["items"] if e["action"] == "order.contact")
    assert contact["before"]["recipient"] == "王小明" and contact["after"]["recipient"] == "李娜"
    assert contact["ip"] == "127.0.0.1" and contact["actor"] == "staff:clerk.one"


async def test_ship_needs_carrier_and_tracking_and_is_mailed(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff
) -> None:
    order = await order_in(client, staff, stocked.sku_m, "picking")
    url = f"/api/v1/staff/orders/{order['number']}/ship"
    for body in (
        {"carrier": "SF", "tracking_number": ""},
        {"carrier": "", "tracking_number": "1"},
        {"carrier": "SF", "tracking_number": "x" * 65},
        {"carrier": "SF", "tracking_number": "1", "shipped_at": "2999-01-01T00:00:00Z"},
    ):
        r = await client.post(url, json=body, headers=staff.clerk)
        assert r.status_code == 400, body
    r = await client.post(
        url, json={"carrier": "顺丰 SF", "tracking_number": "SF100200300"}, headers=staff.clerk
    )
    assert r.status_code == 200
    inquiry = await client.get(
        f"/api/v1/orders/{order['number']}", params={"email": "guest@example.com"}
    )
    got = inquiry.json()
    assert got["shipped"] is True and got["tracking_number"] == "SF100200300"
    assert got["ship_date"] == utcnow().date().isoformat()
    async with db.read() as s:
        kinds = list(
            (
                await s.execute(
                    select(OutboxMessage.kind)
                    .join(Order, Order.id == OutboxMessage.order_id)
                    .where(Order.number == order["number"])
                    .order_by(OutboxMessage.id)
                )
            ).scalars()
        )
        shipped = await s.scalar(
            select(OutboxMessage.body).where(OutboxMessage.kind == "order_shipped")
        )
    assert kinds == ["order_placed", "order_paid", "order_shipped"]
    assert shipped is not None and "SF100200300" in shipped


async def test_late_and_overdue_lists(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff
) -> None:
    fresh = await order_in(client, staff, stocked.sku_m, "paid")
    late = await order_in(client, staff, stocked.sku_m, "picking")
    overdue = await order_in(client, staff, stocked.sku_m, "paid")
    shipped_old = await order_in(client, staff, stocked.sku_m, "shipped")
    unpaid_old = await place_order(client, stocked.sku_m)
    now = utcnow()
    async with db.write() as s:
        for number, hours in (
            (late["number"], 30),
            (overdue["number"], 50),
            (shipped_old["number"], 80),
        ):
            await s.execute(
                update(Order)
                .where(Order.number == number)
                .values(ready_at=now - dt.timedelta(hours=hours))
            )
        await s.execute(
            update(Order)
            .where(Order.number == unpaid_old["number"])
            .values(created_at=now - dt.timedelta(hours=90))
        )
        await s.commit()

    async def numbers(flag: str) -> list[str]:
        r = await client.get("/api/v1/staff/orders", params={"dispatch": flag}, headers=staff.clerk)
        assert r.status_code == 200
        return [o["number"] for o in r.json()["items"]]

    assert await numbers("late") == [late["number"]]
    assert await numbers("overdue") == [overdue["number"]]
    assert await numbers("waiting") == [overdue["number"], late["number"], fresh["number"]]
    detail = await client.get(f"/api/v1/staff/orders/{late['number']}", headers=staff.clerk)
    assert detail.json()["dispatch_flag"] == "late"
    r = await client.get("/api/v1/staff/orders", params={"dispatch": "soon"}, headers=staff.clerk)
    assert r.status_code == 400


async def test_order_search_by_number_email_and_phone_digits(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff
) -> None:
    order = await place_order(client, stocked.sku_m)

    async def found(**params: str) -> list[str]:
        r = await client.get("/api/v1/staff/orders", params=params, headers=staff.clerk)
        assert r.status_code == 200, r.text
        return [o["number"] for o in r.json()["items"]]

    assert await found(q=str(order["number"])[:12]) == [order["number"]]
    assert await found(q="guest@example") == [order["number"]]
    assert await found(q="13800138000") == [order["number"]]  # stored as "+86 138 0013 8000"
    assert await found(q="王小明") == [order["number"]]
    assert await found(q="nobody-like-this") == []
    assert await found(status="pending_payment") == [order["number"]]
    assert await found(status="shipped") == []
    r = await client.get("/api/v1/staff/orders", params={"status": "lost"}, headers=staff.clerk)
    assert r.status_code == 400


async def test_partial_return_restock_and_writeoff_then_refund(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff
) -> None:
    order = await place_order(client, stocked.sku_m, 3, extra=[(stocked.sku_l, 2)])
    for action in ("confirm_payment", "start_picking", "ship", "deliver"):
        assert (await staff_call(client, staff.clerk, action, order)).status_code == 200
    base = f"/api/v1/staff/orders/{order['number']}"
    m_before = await stock_of(db, stocked.sku_m)
    l_before = await stock_of(db, stocked.sku_l)

    too_many = {"reason": "size", "items": [{"sku": stocked.sku_m, "quantity": 4}]}
    r = await client.post(f"{base}/returns", json=too_many, headers=staff.clerk)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_quantity"
    unknown = {"reason": "size", "items": [{"sku": "POT-1", "quantity": 1}]}
    r = await client.post(f"{base}/returns", json=unknown, headers=staff.clerk)
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_line"

    body = {
        "reason": "M too small, one L damaged",
        "items": [{"sku": stocked.sku_m, "quantity": 2}, {"sku": stocked.sku_l, "quantity": 1}],
    }
    r = await client.post(f"{base}/returns", json=body, headers=staff.clerk)
    assert r.status_code == 201 and r.json()["status"] == "return_requested"
    r = await client.post(
        f"{base}/returns/receive",
        json={"dispositions": {stocked.sku_l: "writeoff"}, "default": "restock"},
        headers=staff.clerk,
    )
    assert r.status_code == 200, r.text
    lines = {x["sku"]: x for x in r.json()["returns"][0]["lines"]}
    assert lines[stocked.sku_m]["disposition"] == "restock"
    assert lines[stocked.sku_l]["disposition"] == "writeoff"
    m_after, l_after = await stock_of(db, stocked.sku_m), await stock_of(db, stocked.sku_l)
    assert m_after[0] == m_before[0] + 2 and m_after[1] == m_after[0]
    assert l_after[0] == l_before[0]  # written off: not back on the shelf

    r = await client.post(f"{base}/refunds", json={"reason": "ok"}, headers=staff.clerk)
    assert r.status_code == 403
    r = await client.post(
        f"{base}/refunds", json={"reason": "ok", "amount": 10**9}, headers=staff.manager
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_amount"
    r = await client.post(f"{base}/refunds", json={"reason": "ok"}, headers=staff.manager)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["status"] == "refunded" and got["refunded_total"] == 2 * 7900 + 7900
    assert "request_return" in got["allowed_actions"]  # one M and one L are still out there

    # The rest comes back later: a second return for what is left, and no more.
    r = await client.post(f"{base}/returns", json={"reason": "rest"}, headers=staff.clerk)
    assert r.status_code == 201
    returned = {x["sku"]: x["returned_quantity"] for x in r.json()["items"]}
    assert returned == {stocked.sku_m: 3, stocked.sku_l: 2}
    await client.post(f"{base}/returns/receive", json={}, headers=staff.clerk)
    r = await client.post(
        f"{base}/refunds", json={"reason": "rest", "amount": 10**6}, headers=staff.manager
    )
    assert r.status_code == 400  # more than was paid
    r = await client.post(f"{base}/refunds", json={"reason": "rest"}, headers=staff.manager)
    assert r.status_code == 201 and r.json()["refunded_total"] == 5 * 7900
    assert "request_return" not in r.json()["allowed_actions"]
    async with db.read() as s:
        total = await s.scalar(
            select(func.sum(Refund.amount)).join(Order).where(Order.number == order["number"])
        )
    assert total == 5 * 7900


async def test_unpaid_orders_expire_and_release_stock(
    client: httpx.AsyncClient, db: Database, settings: Settings, stocked: SmallCatalog, staff: Staff
) -> None:
    start = await stock_of(db, stocked.sku_m)
    old = await place_order(client, stocked.sku_m, 2)
    recent = await place_order(client, stocked.sku_m, 1)
    cod = await place_order(client, stocked.sku_m, 1, payment_method="cod")
    async with db.write() as s:
        await s.execute(
            update(Order)
            .where(Order.number.in_([old["number"], cod["number"]]))
            .values(created_at=utcnow() - dt.timedelta(minutes=settings.unpaid_cancel_minutes + 1))
        )
        await s.commit()
    r = await client.post("/api/v1/staff/orders/expire-unpaid", headers=staff.clerk)
    assert r.status_code == 403
    r = await client.post("/api/v1/staff/orders/expire-unpaid", headers=staff.manager)
    assert r.json() == {"cancelled": [old["number"]]}
    statuses = {}
    for o in (old, recent, cod):
        d = await client.get(f"/api/v1/staff/orders/{o['number']}", headers=staff.clerk)
        statuses[o["number"]] = d.json()["status"]
    assert statuses == {
        old["number"]: "cancelled",
        recent["number"]: "pending_payment",
        cod["number"]: "pending_payment",
    }
    on_hand, ledger, _ = await stock_of(db, stocked.sku_m)
    assert on_hand == start[0] - 2 and ledger == on_hand
    again = await client.post("/api/v1/staff/orders/expire-unpaid", headers=staff.manager)
    assert again.json() == {"cancelled": []}


async def test_concurrent_ship_of_one_order_succeeds_once(
    client: httpx.AsyncClient, db: Database, stocked: SmallCatalog, staff: Staff
) -> None:
    import asyncio

    order = await order_in(client, staff, stocked.sku_m, "picking")
    replies = await asyncio.gather(
        *(staff_call(client, staff.clerk, "ship", order) for _ in range(6))
    )
    assert sorted(r.status_code for r in replies) == [200] + [409] * 5
    assert await _events(db, order["number"]) == 4  # placed, paid, picking, shipped
