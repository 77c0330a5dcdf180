"""Every 4xx in the one error shape; bad requests change nothing; no 500s, no traces."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from sqlalchemy import func, select

from shopd.cart.models import CartItem
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.orders.models import Order
from tests.conftest import SmallCatalog

WRITE_ENDPOINTS = [
    ("POST", "/api/v1/cart/items"),
    ("PATCH", "/api/v1/cart/items/TEE-M"),
    ("POST", "/api/v1/orders"),
    ("POST", "/api/v1/customers"),
    ("POST", "/api/v1/session"),
    ("POST", "/api/v1/staff/session"),
    ("PATCH", "/api/v1/me"),
    ("POST", "/api/v1/me/addresses"),
    ("POST", "/api/v1/me/password"),
]


def assert_error_shape(r: httpx.Response) -> dict:
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert "Traceback" not in r.text
    return body["error"]


async def nothing_written(db: Database) -> bool:
    async with db.read() as s:
        counts = [
            await s.scalar(select(func.count()).select_from(m)) for m in (Order, CartItem, Customer)
        ]
    return counts == [0, 0, 0]


@pytest.mark.parametrize(("method", "path"), WRITE_ENDPOINTS)
@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"sku": "TEE-M",', b"\xff\xfe\x00", b"null", b"[1,2,3]", b'"text"', b"1e999"],
)
async def test_malformed_or_wrong_shaped_bodies(
    client: httpx.AsyncClient,
    db: Database,
    catalog: SmallCatalog,
    method: str,
    path: str,
    raw: bytes,
) -> None:
    r = await client.request(
        method, path, content=raw, headers={"content-type": "application/json"}
    )
    assert r.status_code in (400, 401), r.text
    err = assert_error_shape(r)
    if r.status_code == 400:
        assert err["code"] in ("malformed_json", "validation_error")
    assert await nothing_written(db)


async def test_malformed_json_has_its_own_code(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    r = await client.post(
        "/api/v1/cart/items", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and assert_error_shape(r)["code"] == "malformed_json"


async def test_validation_errors_name_the_field(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    r = await client.post("/api/v1/cart/items", json={"sku": "TEE-M", "quantity": -1})
    err = assert_error_shape(r)
    assert err["code"] == "validation_error"
    assert "quantity" in str(err)


@pytest.mark.parametrize(
    "hostile",
    [
        "'; DROP TABLE orders; --",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "%00",
        "🙂" * 30,
        "ＳＫＵ－全角",
    ],
)
async def test_hostile_strings_are_just_text(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, hostile: str
) -> None:
    for r in [
        await client.get("/api/v1/products", params={"q": hostile}),
        await client.get("/api/v1/products", params={"category": hostile}),
    ]:
        assert r.status_code == 200 and r.json()["items"] == []
    r = await client.post("/api/v1/cart/items", json={"sku": hostile, "quantity": 1})
    assert r.status_code == 404 and assert_error_shape(r)["code"] == "unknown_sku"
    r = await client.get(f"/api/v1/orders/{hostile[:20]}", params={"email": "a@b.cn"})
    assert r.status_code in (404,), r.text
    assert await nothing_written(db)
    assert (await client.get("/api/v1/products")).json()["total"] == 2  # tables all still there


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nope")
    assert r.status_code == 404 and assert_error_shape(r)["code"] == "not_found"
    r = await client.put("/api/v1/products")
    assert r.status_code == 405 and assert_error_shape(r)["code"] == "method_not_allowed"
    r = await client.delete("/api/v1/orders")
    assert r.status_code == 405


async def test_oversized_body_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    big = b'{"email": "a@b.cn", "password": "' + b"x" * 400_000 + b'"}'
    r = await client.post(
        "/api/v1/customers", content=big, headers={"content-type": "application/json"}
    )
    assert r.status_code in (400, 413)
    assert_error_shape(r)
    assert await nothing_written(db)


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer " + "x" * 500, "Basic dXNlcjpwdw==", "Bearer ' OR 1=1 --"]
)
async def test_bad_auth_headers_are_401(client: httpx.AsyncClient, header: str) -> None:
    for path in ("/api/v1/me", "/api/v1/staff/me", "/api/v1/me/orders"):
        r = await client.get(path, headers={"Authorization": header})
        assert r.status_code == 401 and assert_error_shape(r)["code"] == "not_authenticated"


async def test_unexpected_errors_are_500_in_shape_without_trace(
    client: httpx.AsyncClient,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from shopd.catalog import service

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "category_tree", broken)
    with caplog.at_level(logging.ERROR):
        r = await client.get("/api/v1/categories")
    assert r.status_code == 500
    error = assert_error_shape(r)
    assert error["code"] == "internal_error"
    assert "secret internals" not in r.text
    # The id in the answer finds the trace in the log.
    rid = error["details"]["request_id"]
    assert r.headers["X-Request-ID"] == rid and len(rid) == 16
    logged = [rec for rec in caplog.records if rid in rec.getMessage()]
    assert logged and "secret internals" in str(logged[0].exc_info[1])


@pytest.mark.parametrize(
    ("sent", "kept"), [("nginx-5f2c9a01", True), ('a "forged" entry', False), ("x" * 65, False)]
)
async def test_a_500_keeps_the_proxys_request_id_when_it_is_safe(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, sent: str, kept: bool
) -> None:
    from shopd.catalog import service

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "category_tree", broken)
    r = await client.get("/api/v1/categories", headers={"X-Request-ID": sent})
    rid = r.json()["error"]["details"]["request_id"]
    assert (rid == sent) is kept
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid)
