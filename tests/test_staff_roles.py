"""Every staff endpoint, called as each role: below its role it is refused before anything else
is looked at, and nothing changes; at its role it is served (issue 12, authorisation)."""

from __future__ import annotations

import re

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from shopd.config import Settings
from shopd.db import Database
from shopd.models import metadata
from shopd.server.app import create_app
from shopd.staff.models import ROLES
from tests.staffkit import Staff, make_staff

# The specification, written out rather than read from the code: who may do what.
C, M, A = "clerk", "manager", "admin"
ROLE_OF: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/staff/accounts"): A,
    ("POST", "/api/v1/staff/accounts"): A,
    ("PATCH", "/api/v1/staff/accounts/{username}"): A,
    ("GET", "/api/v1/staff/audit"): M,
    ("GET", "/api/v1/staff/settings"): M,
    ("GET", "/api/v1/staff/shop"): C,
    ("PUT", "/api/v1/staff/settings/{key}"): A,
    ("GET", "/api/v1/staff/orders"): C,
    ("GET", "/api/v1/staff/orders/dashboard"): C,
    ("POST", "/api/v1/staff/orders/expire-unpaid"): M,
    ("GET", "/api/v1/staff/orders/refunds"): C,
    ("GET", "/api/v1/staff/orders/{number}"): C,
    ("POST", "/api/v1/staff/orders/{number}/payments"): C,
    ("POST", "/api/v1/staff/orders/{number}/picking"): C,
    ("POST", "/api/v1/staff/orders/{number}/print"): C,
    ("POST", "/api/v1/staff/orders/{number}/ship"): C,
    ("POST", "/api/v1/staff/orders/{number}/deliver"): C,
    ("POST", "/api/v1/staff/orders/{number}/complete"): C,
    # A clerk may cancel an unpaid order; a paid one needs a manager (tested in the lifecycle).
    ("POST", "/api/v1/staff/orders/{number}/cancel"): C,
    ("POST", "/api/v1/staff/orders/{number}/notes"): C,
    ("PATCH", "/api/v1/staff/orders/{number}/contact"): C,
    ("POST", "/api/v1/staff/orders/{number}/returns"): C,
    ("POST", "/api/v1/staff/orders/{number}/returns/receive"): C,
    ("POST", "/api/v1/staff/orders/{number}/returns/reject"): M,
    ("POST", "/api/v1/staff/orders/{number}/refunds"): M,
    ("POST", "/api/v1/staff/orders/{number}/refunds/{refund_id}/settle"): M,
    ("GET", "/api/v1/staff/reports/kpis"): C,
    ("GET", "/api/v1/staff/stock"): C,
    ("GET", "/api/v1/staff/stock/{sku}/ledger"): C,
    ("POST", "/api/v1/staff/stock/{sku}/receipts"): C,
    ("POST", "/api/v1/staff/stock/{sku}/adjustments"): M,
    ("PUT", "/api/v1/staff/stock/{sku}/threshold"): M,
    ("GET", "/api/v1/staff/stocktakes"): C,
    ("POST", "/api/v1/staff/stocktakes"): C,
    ("GET", "/api/v1/staff/stocktakes/{take_id}"): C,
    ("PUT", "/api/v1/staff/stocktakes/{take_id}/counts"): C,
    ("POST", "/api/v1/staff/stocktakes/{take_id}/post"): M,
    ("POST", "/api/v1/staff/stocktakes/{take_id}/cancel"): C,
    ("POST", "/api/v1/staff/series"): M,
    ("PATCH", "/api/v1/staff/series/{slug}"): M,
    ("POST", "/api/v1/staff/categories"): M,
    ("PATCH", "/api/v1/staff/categories/{slug}"): M,
    ("GET", "/api/v1/staff/products"): C,
    ("POST", "/api/v1/staff/products"): C,
    ("GET", "/api/v1/staff/products/{slug}"): C,
    ("PATCH", "/api/v1/staff/products/{slug}"): C,
    ("GET", "/api/v1/staff/products/{slug}/sales"): C,
    ("POST", "/api/v1/staff/products/{slug}/approve"): M,
    ("POST", "/api/v1/staff/products/{slug}/list"): M,
    ("POST", "/api/v1/staff/products/{slug}/delist"): M,
    ("PUT", "/api/v1/staff/products/{slug}/price"): M,
    # A clerk may add a SKU at the product's price; one with its own price needs a manager.
    ("POST", "/api/v1/staff/products/{slug}/skus"): C,
    ("PATCH", "/api/v1/staff/skus/{code}"): C,
    ("POST", "/api/v1/staff/products/{slug}/images"): C,
    ("DELETE", "/api/v1/staff/products/{slug}/images"): C,
    ("GET", "/api/v1/staff/catalog/export.csv"): C,
    ("GET", "/api/v1/staff/search/synonyms"): C,
    ("PUT", "/api/v1/staff/search/synonyms"): M,
    ("POST", "/api/v1/staff/catalog/import"): M,
    ("GET", "/api/v1/staff/customers"): C,
    ("GET", "/api/v1/staff/customers/{customer_id}"): C,
    ("POST", "/api/v1/staff/customers/{customer_id}/notes"): C,
    ("POST", "/api/v1/staff/customers/{customer_id}/active"): M,
    ("POST", "/api/v1/staff/customers/{customer_id}/review"): M,
    ("GET", "/api/v1/staff/customers/{customer_id}/membership"): C,
    ("POST", "/api/v1/staff/customers/{customer_id}/points"): M,
    ("GET", "/api/v1/staff/membership/levels"): C,
    ("PUT", "/api/v1/staff/membership/levels"): M,
    ("GET", "/api/v1/staff/pages"): C,
    ("PUT", "/api/v1/staff/pages/{slug}"): M,
    ("POST", "/api/v1/staff/announcements"): M,
    ("PATCH", "/api/v1/staff/announcements/{item_id}"): M,
    ("GET", "/api/v1/staff/guestbook"): C,
    ("PATCH", "/api/v1/staff/guestbook/{item_id}"): C,
    ("PATCH", "/api/v1/staff/reviews/{item_id}"): C,
    ("POST", "/api/v1/staff/newsletters"): M,
    ("GET", "/api/v1/staff/flash-sales"): C,
    ("POST", "/api/v1/staff/flash-sales"): M,
    ("POST", "/api/v1/staff/flash-sales/{sale_id}/end"): M,
    ("GET", "/api/v1/staff/coupons"): C,
    ("POST", "/api/v1/staff/coupons"): M,
    ("POST", "/api/v1/staff/coupons/{coupon_id}/disable"): M,
    ("GET", "/api/v1/staff/group-buys"): C,
    ("POST", "/api/v1/staff/group-buys"): M,
    ("POST", "/api/v1/staff/group-buys/settle"): M,
}
# Log-in, log-out and "who am I" serve anyone who holds (or asks for) a staff session.
OPEN = {
    ("POST", "/api/v1/staff/session"),
    ("DELETE", "/api/v1/staff/session"),
    ("GET", "/api/v1/staff/me"),
}
# Path parameters that name nothing: a refusal must not depend on what exists.
PARAMS = {"number": "SO-00000000-NOPE", "refund_id": "999999", "customer_id": "999999"}
QUERY = {
    ("DELETE", "/api/v1/staff/products/{slug}/images"): {"url": "/media/none.png"},
    ("GET", "/api/v1/staff/products/{slug}/sales"): {},
}


def url_of(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMS.get(m.group(1), "999999"), path)


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body = None if method in ("GET", "DELETE") else {}
    return await client.request(
        method,
        url_of(path),
        json=body,
        params=QUERY.get((method, path)),
        headers=headers,
    )


async def row_counts(db: Database) -> dict[str, int]:
    async with db.read() as s:
        return {
            t.name: await s.scalar(select(func.count()).select_from(t))
            for t in metadata.sorted_tables
            # Sessions and log-in attempts are the callers' own, not what they act on.
            if t.name not in {"staff_sessions", "login_throttle"}
        }


async def test_the_staff_api_is_exactly_the_operations_the_matrix_names(
    db: Database, settings: Settings
) -> None:
    # With its lifespan: the roles are written into the document at start-up.
    async with AsyncTestClient(create_app(settings, database=db)) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    staff_ops = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/staff/")
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    # A new staff endpoint fails here until someone decides, in ROLE_OF, who may call it.
    assert staff_ops - OPEN == set(ROLE_OF)
    for (method, path), role in ROLE_OF.items():
        described = schema["paths"][path][method.lower()].get("description", "")
        assert f"Needs the **{role}** role" in described, (method, path)


async def test_every_staff_endpoint_refuses_the_roles_below_it_and_serves_its_own(
    client: httpx.AsyncClient, db: Database
) -> None:
    staff: Staff = await make_staff(client, db)
    before = await row_counts(db)

    for (method, path), role in ROLE_OF.items():
        r = await call(client, method, path, {})
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["error"]["code"] == "not_authenticated"
        for below in ROLES[: ROLES.index(role)]:
            r = await call(client, method, path, staff.of(below))
            # Refused before the body is read or the target looked up: an empty body and an
            # unknown id still get `forbidden`, never a 400 or 404 that would tell more.
            assert r.status_code == 403, (method, path, below, r.status_code, r.text)
            error = r.json()["error"]
            assert error["code"] == "forbidden"
            assert error["details"] == {"required_role": role, "your_role": below}
    assert await row_counts(db) == before  # nothing a refused call asked for happened

    for (method, path), role in ROLE_OF.items():
        for allowed in ROLES[ROLES.index(role) :]:
            r = await call(client, method, path, staff.of(allowed))
            # Served: an empty body or unknown id is the caller's mistake now, not a refusal.
            assert r.status_code not in (401, 403, 405), (method, path, allowed, r.text)
            assert r.status_code < 500, (method, path, allowed, r.text)


@pytest.mark.parametrize("role", ROLES)
async def test_a_staff_token_is_not_a_customer_session(
    client: httpx.AsyncClient, db: Database, role: str
) -> None:
    staff = await make_staff(client, db)
    r = await client.get("/api/v1/me", headers=staff.of(role))
    assert r.status_code == 401
