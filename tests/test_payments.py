"""Card payments through the local test gateway, for real over HTTP: a `shopctl serve` and a
`shopctl paygate`, each its own process. Good signature, bad signature, replay, amount mismatch,
declined payment, and the gateway being down."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import pytest
from sqlalchemy import func, select

from shopd import migrations
from shopd.db import Database
from shopd.orders import gateway
from shopd.orders.models import GatewayEvent, Order, OrderEvent, Payment
from shopd.staff import service as staff_service
from shopd.staff.models import AuditEntry
from tests.conftest import ADDRESS, Backend, seed_small
from tests.server import free_port, running

KEY = "test-gateway-key"
SECRET = "test-webhook-secret-0123456789"


@dataclass
class Stack:
    shop: str
    gateway: str
    db: Database


@pytest.fixture
async def stack(backend: Backend, tmp_path: Path) -> AsyncIterator[Stack]:
    await migrations.upgrade(backend.url)
    db = Database(backend.url)
    await seed_small(db)
    shop_port, gw_port = free_port(), free_port()
    env = {
        "SHOPD_DATABASE_URL": backend.url,
        "SHOPD_DATA_DIR": str(tmp_path),
        "SHOPD_PUBLIC_URL": f"http://127.0.0.1:{shop_port}",
        "SHOPD_PAYMENT_GATEWAY_URL": f"http://127.0.0.1:{gw_port}",
        "SHOPD_PAYMENT_GATEWAY_KEY": KEY,
        "SHOPD_PAYMENT_WEBHOOK_SECRET": SECRET,
        "SHOPD_BACKGROUND_JOBS": "false",
    }
    gw_args = ("paygate", "--port", str(gw_port))
    shop_args = ("serve", "--port", str(shop_port), "--log-level", "warning")
    try:
        with (
            running(*gw_args, env=env, cwd=tmp_path, port=gw_port, health="/pay/-", up=(404,)) as (
                gw,
                _,
                _,
            ),
            running(*shop_args, env=env, cwd=tmp_path, port=shop_port) as (shop, _, _),
        ):
            yield Stack(shop, gw, db)
    finally:
        await db.dispose()


async def card_order(shop: httpx.AsyncClient) -> dict[str, object]:
    r = await shop.post("/api/v1/cart/items", json={"sku": "TEE-M", "quantity": 2})
    assert r.status_code == 200, r.text
    r = await shop.post(
        "/api/v1/orders",
        json={"payment_method": "card", "email": "card@example.com", "address": ADDRESS},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def start_payment(shop: httpx.AsyncClient, number: str) -> dict[str, object]:
    r = await shop.post(f"/api/v1/orders/{number}/payment", json={"email": "card@example.com"})
    assert r.status_code == 201, r.text
    return r.json()


async def order_state(db: Database, number: str) -> tuple[str, int, int, list[str]]:
    """(status, events, gateway events, payment statuses)."""
    async with db.read() as s:
        order = await s.scalar(select(Order).where(Order.number == number))
        assert order is not None
        events = await s.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order.id)
        )
        payments = list(
            (
                await s.execute(
                    select(Payment.status).where(Payment.order_id == order.id).order_by(Payment.id)
                )
            ).scalars()
        )
        refs = select(Payment.reference).where(Payment.order_id == order.id)
        seen = await s.scalar(
            select(func.count())
            .select_from(GatewayEvent)
            .where(GatewayEvent.payment_reference.in_(refs))
        )
    return order.status, events or 0, seen or 0, payments


async def test_pay_on_the_gateway_page_then_replay(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as shop:
        order = await card_order(shop)
        number = str(order["number"])
        pay = await start_payment(shop, number)
        again = await start_payment(shop, number)
        assert again["redirect_url"] == pay["redirect_url"]  # pressing "pay" twice: one session
        assert pay["amount"] == order["total"]
        assert str(pay["redirect_url"]).startswith(stack.gateway)

    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(str(pay["redirect_url"]))
        assert page.status_code == 200
        assert f"CNY {int(order['total']) / 100:,.2f}" in page.text  # type: ignore[call-overload]
        done = await browser.post(
            str(pay["redirect_url"]), data={"outcome": "succeeded"}, follow_redirects=True
        )
        assert done.status_code == 200 and str(done.url).startswith(stack.shop)
        assert number in done.text and "paid" in done.text

    status, events, seen, payments = await order_state(stack.db, number)
    assert (status, seen, payments) == ("paid", 1, ["succeeded"])

    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as gw:
        async with stack.db.read() as s:
            event_id = await s.scalar(select(GatewayEvent.event_id))
        replay = await gw.post(
            f"/v1/events/{event_id}/resend", headers={"Authorization": f"Bearer {KEY}"}
        )
        assert replay.json()["shop_status"] == 200
        assert replay.json()["shop_reply"] == {"status": "duplicate"}
    assert await order_state(stack.db, number) == (status, events, seen, payments)

    async with httpx.AsyncClient(base_url=stack.shop) as shop:
        inquiry = await shop.get(f"/api/v1/orders/{number}", params={"email": "card@example.com"})
        assert inquiry.json()["paid"] is True
        r = await shop.post(f"/api/v1/orders/{number}/payment", json={"email": "card@example.com"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"


async def test_forged_and_stale_signatures_change_nothing(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as shop:
        order = await card_order(shop)
        number = str(order["number"])
        pay = await start_payment(shop, number)
        before = await order_state(stack.db, number)
        body = msgspec.json.encode(
            {
                "id": "evt_forged_1",
                "type": "payment.succeeded",
                "reference": pay["reference"],
                "amount": pay["amount"],
                "currency": "CNY",
            }
        )
        cases = {
            "no signature": None,
            "wrong secret": gateway.sign("not-the-secret", body),
            "garbage": "t=abc,v1=zz",
            "stale": gateway.sign(SECRET, body, timestamp=int(time.time()) - 3600),
            "other body": gateway.sign(SECRET, body + b" "),
        }
        for name, signature in cases.items():
            headers = {"Content-Type": "application/json"}
            if signature:
                headers[gateway.SIGNATURE_HEADER] = signature
            r = await shop.post("/api/v1/payments/webhook", content=body, headers=headers)
            assert r.status_code == 400, name
            assert r.json()["error"]["code"] == "invalid_signature", name
        assert await order_state(stack.db, number) == before

        # The same body, signed properly, is accepted: the checks above were about signatures.
        good = gateway.sign(SECRET, body)
        r = await shop.post(
            "/api/v1/payments/webhook", content=body, headers={gateway.SIGNATURE_HEADER: good}
        )
        assert r.status_code == 200 and r.json() == {"status": "processed"}
        assert (await order_state(stack.db, number))[0] == "paid"

        # Well signed but not an event, or for an unknown payment: refused, no 500.
        for bad in (b"{}", b"[1,2]", b"not json"):
            r = await shop.post(
                "/api/v1/payments/webhook",
                content=bad,
                headers={gateway.SIGNATURE_HEADER: gateway.sign(SECRET, bad)},
            )
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_webhook"
        unknown = msgspec.json.encode(
            {
                "id": "evt_x",
                "type": "payment.succeeded",
                "reference": "PAY-none",
                "amount": 1,
                "currency": "CNY",
            }
        )
        r = await shop.post(
            "/api/v1/payments/webhook",
            content=unknown,
            headers={gateway.SIGNATURE_HEADER: gateway.sign(SECRET, unknown)},
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_payment"


async def test_amount_mismatch_leaves_the_order_unpaid(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as shop:
        order = await card_order(shop)
        number = str(order["number"])
        pay = await start_payment(shop, number)
    session_id = str(pay["redirect_url"]).rsplit("/", 1)[-1]
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as gw:
        r = await gw.post(
            f"/v1/sessions/{session_id}/complete",
            json={"outcome": "succeeded", "amount": 1},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert r.json()["shop_status"] == 409
        assert r.json()["shop_reply"]["error"]["code"] == "amount_mismatch"
        # Replaying the tampered event does not sneak it through the second time.
        event_id = r.json()["event_id"]
        again = await gw.post(
            f"/v1/events/{event_id}/resend", headers={"Authorization": f"Bearer {KEY}"}
        )
        assert again.json()["shop_reply"] == {"status": "duplicate"}
    status, _, _, payments = await order_state(stack.db, number)
    assert status == "pending_payment" and payments == ["rejected"]

    # A fresh attempt with the right amount still works.
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as shop:
        retry = await start_payment(shop, number)
        assert retry["reference"] != pay["reference"]
    async with httpx.AsyncClient(timeout=30) as browser:
        await browser.post(str(retry["redirect_url"]), data={"outcome": "succeeded"})
    status, _, _, payments = await order_state(stack.db, number)
    assert status == "paid" and payments == ["rejected", "succeeded"]


async def test_a_cancelled_card_order_is_refunded_through_the_gateway(stack: Stack) -> None:
    async with stack.db.write() as s:
        await staff_service.add_staff(s, "pay.manager", "manager", "staff-password-1")
        await s.commit()
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as shop:
        order = await card_order(shop)
        number = str(order["number"])
        pay = await start_payment(shop, number)
    async with httpx.AsyncClient(timeout=30) as browser:
        await browser.post(str(pay["redirect_url"]), data={"outcome": "succeeded"})
    session_id = str(pay["redirect_url"]).rsplit("/", 1)[-1]
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as shop:
        r = await shop.post(
            "/api/v1/staff/session",
            json={"username": "pay.manager", "password": "staff-password-1"},
        )
        manager = {"Authorization": f"Bearer {r.json()['token']}"}
        base = f"/api/v1/staff/orders/{number}"
        r = await shop.post(f"{base}/cancel", json={"reason": "sold out"}, headers=manager)
        assert r.status_code == 200, r.text
        (owed,) = r.json()["refunds"]
        assert (owed["method"], owed["status"]) == ("card", "pending")
        r = await shop.post(f"{base}/refunds/{owed['id']}/settle", headers=manager)
        assert r.status_code == 200, r.text
        assert r.json()["refunded_total"] == order["total"]
        again = await shop.post(f"{base}/refunds/{owed['id']}/settle", headers=manager)
        assert again.status_code == 409
    async with stack.db.read() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "order.refund_settle"))
    assert entry is not None and entry.after is not None
    gateway_refund = entry.after["gateway_refund"]
    # The gateway made the refund once: asked again with the shop's key, it answers the same
    # refund, and the session has nothing left to refund.
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as gw:
        auth = {"Authorization": f"Bearer {KEY}"}
        r = await gw.post(
            "/v1/refunds",
            json={"session": session_id, "amount": 1, "reference": f"refund-{owed['id']}"},
            headers=auth,
        )
        assert r.status_code == 200 and r.json()["id"] == gateway_refund
        r = await gw.post(
            "/v1/refunds",
            json={"session": session_id, "amount": 1, "reference": "another"},
            headers=auth,
        )
        assert r.status_code == 422


async def test_declined_payment(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as shop:
        order = await card_order(shop)
        number = str(order["number"])
        pay = await start_payment(shop, number)
    async with httpx.AsyncClient(timeout=30) as browser:
        done = await browser.post(
            str(pay["redirect_url"]), data={"outcome": "failed"}, follow_redirects=True
        )
        assert "did not go through" in done.text
    status, _, _, payments = await order_state(stack.db, number)
    assert status == "pending_payment" and payments == ["failed"]


async def test_guest_must_prove_the_order_is_theirs(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as shop:
        order = await card_order(shop)
        r = await shop.post(
            f"/api/v1/orders/{order['number']}/payment", json={"email": "other@example.com"}
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "order_not_found"
        r = await shop.post(f"/api/v1/orders/{order['number']}/payment", json={})
        assert r.status_code == 400


async def test_bank_transfer_order_cannot_be_paid_by_card(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as shop:
        await shop.post("/api/v1/cart/items", json={"sku": "TEE-M", "quantity": 1})
        r = await shop.post(
            "/api/v1/orders",
            json={"payment_method": "bank_transfer", "email": "b@example.com", "address": ADDRESS},
        )
        number = r.json()["number"]
        r = await shop.post(f"/api/v1/orders/{number}/payment", json={"email": "b@example.com"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"


async def test_gateway_down_is_a_clear_error(backend: Backend, tmp_path: Path) -> None:
    await migrations.upgrade(backend.url)
    db = Database(backend.url)
    await seed_small(db)
    await db.dispose()
    port = free_port()
    env = {
        "SHOPD_DATABASE_URL": backend.url,
        "SHOPD_DATA_DIR": str(tmp_path),
        "SHOPD_PAYMENT_GATEWAY_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens
        "SHOPD_PAYMENT_GATEWAY_KEY": KEY,
        "SHOPD_PAYMENT_WEBHOOK_SECRET": SECRET,
        "SHOPD_BACKGROUND_JOBS": "false",
    }
    with running("serve", "--port", str(port), env=env, cwd=tmp_path, port=port) as (base, _, _):
        async with httpx.AsyncClient(base_url=base, timeout=30) as shop:
            order = await card_order(shop)
            r = await shop.post(
                f"/api/v1/orders/{order['number']}/payment", json={"email": "card@example.com"}
            )
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "payment_gateway_unavailable"
            assert not re.search(r"Traceback|httpx", r.text)


async def test_storefront_pay_now_goes_through_the_gateway(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.shop, timeout=30) as browser:
        page = (await browser.get("/p/cotton-tee")).text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page)
        assert token
        await browser.post(
            "/cart/add", data={"sku": "TEE-M", "quantity": "1", "_csrf_token": token.group(1)}
        )
        form = (await browser.get("/checkout")).text
        key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
        assert key
        placed = await browser.post(
            "/checkout",
            data={
                "_csrf_token": token.group(1),
                "idempotency_key": key.group(1),
                "email": "page@example.com",
                "payment_method": "card",
                "recipient": "王",
                "phone": "13800000000",
                "region": "浙江",
                "city": "杭州",
                "line1": "文三路 1 号",
            },
            follow_redirects=True,
        )
        link = re.search(
            r'action="(/order/[^"]+/pay)".*?name="t" value="([^"]+)"', placed.text, re.S
        )
        assert link, placed.text
        number = link.group(1).split("/")[2]
        to_gateway = await browser.post(
            link.group(1), data={"_csrf_token": token.group(1), "t": link.group(2)}
        )
        assert to_gateway.status_code == 303
        assert to_gateway.headers["location"].startswith(stack.gateway)
        paid = await browser.post(
            to_gateway.headers["location"], data={"outcome": "succeeded"}, follow_redirects=True
        )
        assert f"order {number} is paid" in paid.text
        forged = await browser.post(
            link.group(1), data={"_csrf_token": token.group(1), "t": "forged"}
        )
        assert forged.status_code == 404
    assert (await order_state(stack.db, number))[0] == "paid"
