"""Through the whole stack: a real `shopctl serve` (2 workers) on each back end, over TCP."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
from sqlalchemy import delete, func, select, update

from shopd.catalog.models import Sku
from shopd.db import Database
from shopd.inventory.models import StockLevel, StockMovement
from shopd.orders.models import Order
from tests.conftest import ADDRESS, Backend
from tests.server import free_port, running, shopctl


async def test_register_search_cart_checkout_inquiry(backend: Backend, tmp_path: Path) -> None:
    env = {"SHOPD_DATABASE_URL": backend.url, "SHOPD_DATA_DIR": str(tmp_path)}
    assert shopctl("db", "upgrade", env=env).returncode == 0
    assert shopctl("db", "seed-demo", "--products", "48", env=env).returncode == 0
    port = free_port()
    args = ("serve", "--port", str(port), "--workers", "2", "--log-level", "warning")
    with running(*args, env=env, cwd=tmp_path, port=port) as (base, _, _log):
        async with httpx.AsyncClient(base_url=base, timeout=30) as shopper:
            r = await shopper.post(
                "/api/v1/customers",
                json={"email": "lin@example.com", "password": "journey-pass-1", "name": "林"},
            )
            assert r.status_code == 201, r.text

            found = (await shopper.get("/api/v1/products", params={"q": "紫砂"})).json()
            assert [p["name"] for p in found["items"]][:1] == ["紫砂壶"]
            latin = (await shopper.get("/api/v1/products", params={"q": "teapot"})).json()
            assert found["items"][0]["slug"] in [p["slug"] for p in latin["items"]]
            product = (await shopper.get(f"/api/v1/products/{found['items'][0]['slug']}")).json()
            sku = next(s for s in product["skus"] if s["available"] >= 1)

            r = await shopper.post("/api/v1/cart/items", json={"sku": sku["code"], "quantity": 1})
            assert r.status_code == 200 and r.json()["subtotal"] == sku["price"]

            key = {"Idempotency-Key": str(uuid.uuid4())}
            body = {"payment_method": "card", "address": ADDRESS, "phone": "13812345678"}
            placed = await shopper.post("/api/v1/orders", json=body, headers=key)
            assert placed.status_code == 201, placed.text
            retry = await shopper.post("/api/v1/orders", json=body, headers=key)
            assert retry.status_code == 200 and retry.json()["number"] == placed.json()["number"]
            number = placed.json()["number"]

            history = (await shopper.get("/api/v1/me/orders")).json()
            assert [o["number"] for o in history["items"]] == [number]

        async with httpx.AsyncClient(base_url=base) as guest:
            inquiry = await guest.get(
                f"/api/v1/orders/{number}", params={"email": "lin@example.com"}
            )
            assert inquiry.status_code == 200
            assert inquiry.json()["status"] == "pending_payment"
            assert inquiry.json()["paid"] is False and inquiry.json()["shipped"] is False
            by_phone = await guest.get(f"/api/v1/orders/{number}", params={"phone": "13812345678"})
            assert by_phone.status_code == 200


async def test_fifty_shoppers_race_for_ten_units_over_http(
    backend: Backend, tmp_path: Path
) -> None:
    env = {"SHOPD_DATABASE_URL": backend.url, "SHOPD_DATA_DIR": str(tmp_path)}
    assert shopctl("db", "upgrade", env=env).returncode == 0
    assert shopctl("db", "seed-demo", "--products", "12", env=env).returncode == 0
    db = Database(backend.url)
    try:
        async with db.write() as s:
            sku = await s.scalar(select(Sku).order_by(Sku.id).limit(1))
            assert sku is not None
            code, sku_id = sku.code, sku.id
            await s.execute(delete(StockMovement).where(StockMovement.sku_id == sku_id))
            await s.execute(
                update(StockLevel).where(StockLevel.sku_id == sku_id).values(on_hand=10)
            )
            s.add(
                StockMovement(
                    sku_id=sku_id, delta=10, reason="initial", actor="test", on_hand_after=10
                )
            )
            await s.commit()
        port = free_port()
        args = ("serve", "--port", str(port), "--workers", "2", "--log-level", "warning")
        with running(*args, env=env, cwd=tmp_path, port=port) as (base, _, _log):
            clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in range(50)]
            for c in clients:
                r = await c.post("/api/v1/cart/items", json={"sku": code, "quantity": 1})
                assert r.status_code == 200
            body = {"payment_method": "cod", "email": "crowd@example.com", "address": ADDRESS}
            replies = await asyncio.gather(*(c.post("/api/v1/orders", json=body) for c in clients))
            for c in clients:
                await c.aclose()
        statuses = sorted(r.status_code for r in replies)
        assert statuses == [201] * 10 + [409] * 40
        assert {r.json()["error"]["code"] for r in replies if r.status_code == 409} == {
            "out_of_stock"
        }
        async with db.read() as s:
            on_hand = await s.scalar(select(StockLevel.on_hand).where(StockLevel.sku_id == sku_id))
            sales = await s.scalar(
                select(func.sum(StockMovement.delta)).where(
                    StockMovement.sku_id == sku_id, StockMovement.reason == "sale"
                )
            )
            orders = await s.scalar(select(func.count()).select_from(Order))
        assert (on_hand, sales, orders) == (0, -10, 10)
    finally:
        await db.dispose()
