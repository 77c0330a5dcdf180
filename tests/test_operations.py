"""Health, readiness, OpenAPI, metrics, and the staff session."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from shopd.app import create_app
from shopd.config import Settings
from shopd.db import Database
from shopd.staff import service as staff
from shopd.staff.models import StaffUser


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["database"] == "ok"


async def test_readiness_fails_when_the_database_is_gone(settings: Settings) -> None:
    down = Database("mysql://shopd@127.0.0.1:1/none")  # nothing listens on port 1
    app = create_app(settings, database=down)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
        assert r.status_code == 503 and r.json()["database"] == "unreachable"
        assert (await c.get("/healthz")).status_code == 200
        # Not a bug of ours: a clear 503 to try again, not a 500.
        r = await c.get("/api/v1/categories")
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
        assert r.headers["retry-after"] == "5"
        page = await c.get("/")
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
    await down.dispose()


async def test_openapi_schema_lists_the_contract(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in [
        "/api/v1/categories",
        "/api/v1/products",
        "/api/v1/products/{slug}",
        "/api/v1/customers",
        "/api/v1/session",
        "/api/v1/cart",
        "/api/v1/cart/items",
        "/api/v1/cart/items/{sku}",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/staff/session",
        "/healthz",
        "/readyz",
    ]:
        assert path in paths, path
    checkout = paths["/api/v1/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in checkout["parameters"])


async def test_metrics_are_exported(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert 'litestar_requests_total{app_name="shopd",method="GET",path="/healthz"' in r.text


async def test_staff_session_and_token(client: httpx.AsyncClient, db: Database) -> None:
    async with db.write() as s:
        await staff.add_staff(s, "li.na", "clerk", "clerk-password-1")
        await s.commit()
    r = await client.post(
        "/api/v1/staff/session", json={"username": "li.na", "password": "clerk-password-1"}
    )
    assert r.status_code == 201
    token = r.json()["token"]
    me = await client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"username": "li.na", "role": "clerk"}
    bad = await client.post(
        "/api/v1/staff/session", json={"username": "li.na", "password": "wrong-password"}
    )
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_credentials"
    async with db.write() as s:
        user = await s.scalar(select(StaffUser))
        assert user is not None
        user.active = False
        await s.commit()
    me = await client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401  # a disabled account's tokens stop working at once
