"""Helpers for staff API tests: accounts per role, orders placed through the public API and
driven along the lifecycle through the staff API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx

from shopd.db import Database, utcnow
from shopd.staff import service as staff_service
from tests.conftest import checkout_body

PASSWORD = "staff-password-1"


@dataclass
class Staff:
    clerk: dict[str, str]
    manager: dict[str, str]
    admin: dict[str, str]

    def of(self, role: str) -> dict[str, str]:
        return {"clerk": self.clerk, "manager": self.manager, "admin": self.admin}[role]


async def make_staff(client: httpx.AsyncClient, db: Database) -> Staff:
    async with db.write() as s:
        for role in ("clerk", "manager", "admin"):
            await staff_service.add_staff(s, f"{role}.one", role, PASSWORD)
        await s.commit()
    headers = {}
    for role in ("clerk", "manager", "admin"):
        r = await client.post(
            "/api/v1/staff/session", json={"username": f"{role}.one", "password": PASSWORD}
        )
        assert r.status_code == 201, r.text
        headers[role] = {"Authorization": f"Bearer {r.json()['token']}"}
    return Staff(**headers)


async def place_order(
    client: httpx.AsyncClient,
    sku: str,
    quantity: int = 1,
    *,
    payment_method: str = "bank_transfer",
    extra: list[tuple[str, int]] | None = None,
    language: str | None = None,
) -> dict[str, object]:
    """A guest order through the public API, in a fresh cart (cookies cleared)."""
    client.cookies.clear()
    for code, qty in [(sku, quantity), *(extra or [])]:
        r = await client.post("/api/v1/cart/items", json={"sku": code, "quantity": qty})
        assert r.status_code == 200, r.text
    body = checkout_body(payment_method=payment_method)
    if language:
        body["language"] = language  # the order's mails are written in it
    r = await client.post("/api/v1/orders", json=body)
    assert r.status_code == 201, r.text
    client.cookies.clear()
    return r.json()


async def staff_call(
    client: httpx.AsyncClient, headers: dict[str, str], action: str, order: dict[str, object]
) -> httpx.Response:
    """One lifecycle action with the body a clerk would send."""
    n = order["number"]
    base = f"/api/v1/staff/orders/{n}"
    bodies: dict[str, tuple[str, dict[str, object] | None]] = {
        "confirm_payment": ("/payments", {"amount": order["total"], "reference": "BANK-1"}),
        "start_picking": ("/picking", None),
        "ship": ("/ship", {"carrier": "SF Express", "tracking_number": "SF1234567890"}),
        "deliver": ("/deliver", None),
        "complete": ("/complete", None),
        "cancel": ("/cancel", {"reason": "customer changed their mind"}),
        "request_return": ("/returns", {"reason": "wrong size"}),
        "receive_return": ("/returns/receive", {"default": "restock"}),
        "reject_return": ("/returns/reject", {"reason": "worn"}),
        "refund": ("/refunds", {"reason": "return received"}),
    }
    path, body = bodies[action]
    return await client.post(base + path, json=body, headers=headers)


# The actions that bring a bank-transfer order to each status.
PATH_TO: dict[str, list[str]] = {
    "pending_payment": [],
    "paid": ["confirm_payment"],
    "picking": ["confirm_payment", "start_picking"],
    "shipped": ["confirm_payment", "start_picking", "ship"],
    "delivered": ["confirm_payment", "start_picking", "ship", "deliver"],
    "completed": ["confirm_payment", "start_picking", "ship", "deliver", "complete"],
    "return_requested": ["confirm_payment", "start_picking", "ship", "deliver", "request_return"],
    "returned": [
        "confirm_payment",
        "start_picking",
        "ship",
        "deliver",
        "request_return",
        "receive_return",
    ],
    "refunded": [
        "confirm_payment",
        "start_picking",
        "ship",
        "deliver",
        "request_return",
        "receive_return",
        "refund",
    ],
    "cancelled": ["cancel"],
}


async def order_in(
    client: httpx.AsyncClient, staff: Staff, sku: str, status: str, quantity: int = 1
) -> dict[str, object]:
    order = await place_order(client, sku, quantity)
    for action in PATH_TO[status]:
        r = await staff_call(client, staff.manager, action, order)
        assert r.status_code in (200, 201), (action, r.text)
    r = await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
    assert r.json()["status"] == status
    return r.json()


def window(start_in: float = -60, length: float = 3600) -> dict[str, str]:
    """A campaign's ``starts_at``/``ends_at``, ``start_in`` seconds from now, ``length`` long."""
    start = utcnow() + dt.timedelta(seconds=start_in)
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(seconds=length)).isoformat(),
    }
