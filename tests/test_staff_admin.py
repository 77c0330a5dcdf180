"""Staff accounts, log-in throttling, log-out, the audit log, and the staff view of customers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update

from shopd.config import Settings
from shopd.customers.models import Customer
from shopd.customers.service import REGISTRATIONS_PER_IP_HOUR
from shopd.db import Database
from shopd.server.app import create_app
from shopd.staff import throttle
from tests.conftest import SmallCatalog
from tests.staffkit import PASSWORD, Staff, make_staff, place_order


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/staff/session", json={"username": name, "password": password})


async def test_accounts_are_managed_by_admins(
    client: httpx.AsyncClient, db: Database, staff: Staff
) -> None:
    new = {"username": "wang.fang", "role": "clerk", "password": "a-long-password"}
    for role in ("clerk", "manager"):
        r = await client.post("/api/v1/staff/accounts", json=new, headers=staff.of(role))
        assert r.status_code == 403
        assert (
            await client.get("/api/v1/staff/accounts", headers=staff.of(role))
        ).status_code == 403
    r = await client.post("/api/v1/staff/accounts", json=new, headers=staff.admin)
    assert r.status_code == 201 and r.json()["role"] == "clerk"
    r = await client.post("/api/v1/staff/accounts", json=new, headers=staff.admin)
    assert r.status_code == 409
    for bad in (
        {**new, "username": "Bad Name"},
        {**new, "username": "x2", "role": "owner"},
        {**new, "username": "x3", "password": "short"},
    ):
        r = await client.post("/api/v1/staff/accounts", json=bad, headers=staff.admin)
        assert r.status_code == 400, bad

    token = (await login(client, "wang.fang", "a-long-password")).json()["token"]
    wang = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/staff/me", headers=wang)).json()["role"] == "clerk"

    r = await client.patch(
        "/api/v1/staff/accounts/wang.fang", json={"role": "manager"}, headers=staff.admin
    )
    assert r.json()["role"] == "manager"
    assert (await client.get("/api/v1/staff/me", headers=wang)).json()["role"] == "manager"
    # Disabling ends the open sessions at once and refuses new log-ins.
    r = await client.patch(
        "/api/v1/staff/accounts/wang.fang", json={"active": False}, headers=staff.admin
    )
    assert r.json()["active"] is False
    assert (await client.get("/api/v1/staff/me", headers=wang)).status_code == 401
    assert (await login(client, "wang.fang", "a-long-password")).status_code == 401
    # An admin cannot lock themself out.
    r = await client.patch(
        "/api/v1/staff/accounts/admin.one", json={"active": False}, headers=staff.admin
    )
    assert r.status_code == 409
    names = [
        a["username"]
        for a in (await client.get("/api/v1/staff/accounts", headers=staff.admin)).json()
    ]
    assert names == ["admin.one", "clerk.one", "manager.one", "wang.fang"]

    audit = await client.get(
        "/api/v1/staff/audit", params={"target_type": "staff"}, headers=staff.manager
    )
    entries = audit.json()["items"]
    assert [e["action"] for e in entries] == ["staff.update", "staff.update", "staff.create"]
    assert entries[0]["before"]["active"] is True and entries[0]["after"]["active"] is False
    assert all(
        "password" not in str(e["after"]).lower() or "changed" in str(e["after"]) for e in entries
    )
    assert (await client.get("/api/v1/staff/audit", headers=staff.clerk)).status_code == 403


async def test_logout_ends_the_token(client: httpx.AsyncClient, db: Database, staff: Staff) -> None:
    assert (await client.get("/api/v1/staff/me", headers=staff.clerk)).status_code == 200
    assert (await client.delete("/api/v1/staff/session", headers=staff.clerk)).status_code == 204
    assert (await client.get("/api/v1/staff/me", headers=staff.clerk)).status_code == 401


@pytest.fixture
async def remote(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client on another machine than the app server (the staff API through nginx)."""
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c:
        yield c


async def test_login_attempts_are_rate_limited(
    remote: httpx.AsyncClient, client: httpx.AsyncClient, settings: Settings, staff: Staff
) -> None:
    on_the_app_server, client = client, remote
    for _ in range(settings.login_max_failures):
        r = await login(client, "clerk.one", "wrong-password")
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    r = await login(client, "clerk.one", PASSWORD)
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_attempts"
    assert r.json()["error"]["details"]["retry_after_seconds"] > 0
    # Other names still work from this address, until the address has failed too often.
    assert (await login(client, "manager.one", PASSWORD)).status_code == 201
    for i in range(settings.login_max_failures * throttle.ADDRESS_FACTOR):
        await login(client, f"guess{i % 4}", "wrong-password")
    r = await login(client, "admin.one", PASSWORD)
    assert r.status_code == 429
    # Staff in the TUI on the app server share its address: there only names are limited.
    assert (await login(on_the_app_server, "admin.one", PASSWORD)).status_code == 201


async def test_a_success_clears_the_failures_of_that_name(
    client: httpx.AsyncClient, db: Database, settings: Settings, staff: Staff
) -> None:
    for _ in range(settings.login_max_failures - 1):
        assert (await login(client, "clerk.one", "nope-nope")).status_code == 401
    assert (await login(client, "clerk.one", PASSWORD)).status_code == 201
    assert (await login(client, "clerk.one", "nope-nope")).status_code == 401
    assert (await login(client, "clerk.one", PASSWORD)).status_code == 201


async def test_expired_staff_tokens_are_refused(
    client: httpx.AsyncClient, db: Database, staff: Staff
) -> None:
    from shopd.db import utcnow
    from shopd.staff.models import StaffSession

    async with db.write() as s:
        await s.execute(update(StaffSession).values(expires_at=utcnow()))
        await s.commit()
    r = await client.get("/api/v1/staff/orders", headers=staff.clerk)
    assert r.status_code == 401


async def test_staff_see_customers_with_orders_notes_and_can_disable(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    r = await client.post(
        "/api/v1/customers",
        json={"email": "zhao@example.com", "password": "customer-pass-1", "name": "赵"},
    )
    customer_token = r.json()["token"]
    cid = None
    listing = await client.get("/api/v1/staff/customers", params={"q": "zhao"}, headers=staff.clerk)
    cid = listing.json()["items"][0]["id"]
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    from tests.conftest import checkout_body

    placed = await client.post("/api/v1/orders", json=checkout_body(email=None))
    assert placed.status_code == 201
    client.cookies.clear()

    r = await client.post(
        f"/api/v1/staff/customers/{cid}/notes",
        json={"body": "VIP, call before delivery"},
        headers=staff.clerk,
    )
    assert r.status_code == 201
    detail = r.json()
    assert detail["customer"]["email"] == "zhao@example.com"
    assert [o["number"] for o in detail["orders"]] == [placed.json()["number"]]
    assert detail["notes"][0]["body"] == "VIP, call before delivery"

    url = f"/api/v1/staff/customers/{cid}/active"
    assert (await client.post(url, json={"active": False}, headers=staff.clerk)).status_code == 403
    r = await client.post(url, json={"active": False}, headers=staff.manager)
    assert r.json()["active"] is False
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {customer_token}"})
    assert me.status_code == 401
    r = await client.post(
        "/api/v1/session", json={"email": "zhao@example.com", "password": "customer-pass-1"}
    )
    assert r.status_code == 401
    assert (
        await client.get("/api/v1/staff/customers/999999", headers=staff.clerk)
    ).status_code == 404


async def test_suspicious_registrations_are_flagged_for_review(
    client: httpx.AsyncClient, db: Database, staff: Staff
) -> None:
    for i in range(REGISTRATIONS_PER_IP_HOUR):
        r = await client.post(
            "/api/v1/customers",
            json={"email": f"user{i}@example.com", "password": "customer-pass-1"},
        )
        assert r.status_code == 201
        client.cookies.clear()
    burst = await client.post(
        "/api/v1/customers", json={"email": "sixth@example.com", "password": "customer-pass-1"}
    )
    client.cookies.clear()
    async with db.write() as s:
        # Registered long ago from elsewhere: the link in the name alone flags this one.
        await s.execute(update(Customer).values(registered_ip="10.0.0.9"))
        await s.commit()
    spam = await client.post(
        "/api/v1/customers",
        json={
            "email": "spam@example.com",
            "password": "customer-pass-1",
            "name": "cheap watches http://spam.example",
        },
    )
    assert burst.status_code == 201 and spam.status_code == 201
    queue = await client.get(
        "/api/v1/staff/customers", params={"flagged": "true"}, headers=staff.clerk
    )
    flagged = {c["email"]: c["flag_reason"] for c in queue.json()["items"]}
    assert set(flagged) == {"sixth@example.com", "spam@example.com"}
    assert "link" in flagged["spam@example.com"]

    ids = {c["email"]: c["id"] for c in queue.json()["items"]}
    url = "/api/v1/staff/customers/{}/review"
    r = await client.post(
        url.format(ids["sixth@example.com"]), json={"decision": "approve"}, headers=staff.clerk
    )
    assert r.status_code == 403
    r = await client.post(
        url.format(ids["sixth@example.com"]), json={"decision": "approve"}, headers=staff.manager
    )
    assert r.json()["flagged"] is False and r.json()["active"] is True
    r = await client.post(
        url.format(ids["spam@example.com"]), json={"decision": "disable"}, headers=staff.manager
    )
    assert r.json()["flagged"] is False and r.json()["active"] is False
    r = await client.post(
        url.format(ids["spam@example.com"]), json={"decision": "ban"}, headers=staff.manager
    )
    assert r.status_code == 400
    queue = await client.get(
        "/api/v1/staff/customers", params={"flagged": "true"}, headers=staff.clerk
    )
    assert queue.json()["items"] == []


async def test_every_staff_action_is_audited_with_before_and_after(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    order = await place_order(client, catalog.sku_m)
    await client.post(
        f"/api/v1/staff/orders/{order['number']}/payments",
        json={"amount": order["total"], "reference": "T-1"},
        headers=staff.clerk,
    )
    await client.post(
        f"/api/v1/staff/stock/{catalog.sku_l}/receipts", json={"quantity": 3}, headers=staff.clerk
    )
    await client.put(
        f"/api/v1/staff/products/{catalog.tshirt}/price",
        json={"price": 8800},
        headers=staff.manager,
    )
    r = await client.get("/api/v1/staff/audit", headers=staff.admin)
    items = r.json()["items"]
    by_action = {e["action"]: e for e in items}
    assert {"order.paid", "stock.receive", "price.change"} <= set(by_action)
    assert by_action["order.paid"]["before"] == {"status": "pending_payment"}
    assert by_action["order.paid"]["after"]["status"] == "paid"
    assert by_action["stock.receive"]["before"] == {"on_hand": 5}
    assert by_action["price.change"]["before"] == {"price": 7900}
    assert by_action["price.change"]["actor"] == "staff:manager.one"
    assert all(e["ip"] == "127.0.0.1" for e in items)
    r = await client.get(
        "/api/v1/staff/audit", params={"who": "staff:clerk.one"}, headers=staff.manager
    )
    assert {e["actor"] for e in r.json()["items"]} == {"staff:clerk.one"}
