"""What the staff API says an order allows (``allowed_actions``, ``refused_actions``) is what
its endpoints do: for a clerk and a manager, on orders in every status, each refused action is
refused with the listed code and each allowed one is accepted (issue 30)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import PATH_TO, Staff, make_staff, place_order, staff_call

# Every action an order lists, with the method, path and body a clerk would send.
CALLS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "note": ("POST", "/notes", {"body": "called the customer"}),
    "confirm_payment": ("POST", "/payments", None),  # the body needs the order's total
    "start_picking": ("POST", "/picking", None),
    "ship": ("POST", "/ship", {"carrier": "SF Express", "tracking_number": "SF1234567890"}),
    "deliver": ("POST", "/deliver", None),
    "complete": ("POST", "/complete", None),
    "cancel": ("POST", "/cancel", {"reason": "customer changed their mind"}),
    "request_return": ("POST", "/returns", {"reason": "wrong size"}),
    "receive_return": ("POST", "/returns/receive", {"default": "restock"}),
    "reject_return": ("POST", "/returns/reject", {"reason": "worn"}),
    "refund": ("POST", "/refunds", {"reason": "return received"}),
    "edit_contact": ("PATCH", "/contact", {"phone": "+86 139 0000 1111"}),
    "print": ("POST", "/print", None),
}
STATUS_OF_REFUSAL = {
    "forbidden": 403,
    "invalid_transition": 409,
    "group_buy_pending": 409,
    "order_locked": 409,
}
# An order in each status (bank transfer unless named), plus the cases a status alone does not
# tell: cash on delivery before payment, and a picked order whose packing slip is printed.
CASES: dict[str, tuple[str, list[str]]] = {
    **{status: ("bank_transfer", steps) for status, steps in PATH_TO.items()},
    "cod_pending": ("cod", []),
    "printed": ("bank_transfer", [*PATH_TO["picking"], "print"]),
}
# What each case allows a clerk and a manager (written out, not read from the code).
EXPECTED: dict[str, dict[str, set[str]]] = {
    "pending_payment": {
        "clerk": {"note", "confirm_payment", "cancel", "edit_contact", "print"},
        "manager": {"note", "confirm_payment", "cancel", "edit_contact", "print"},
    },
    "cod_pending": {
        "clerk": {"note", "start_picking", "cancel", "edit_contact", "print"},
        "manager": {"note", "start_picking", "cancel", "edit_contact", "print"},
    },
    "paid": {
        # Cancelling a paid order sends money back: a manager's decision.
        "clerk": {"note", "start_picking", "edit_contact", "print"},
        "manager": {"note", "start_picking", "cancel", "edit_contact", "print"},
    },
    "picking": {
        "clerk": {"note", "ship", "edit_contact", "print"},
        "manager": {"note", "ship", "cancel", "edit_contact", "print"},
    },
    "printed": {
        "clerk": {"note", "ship", "print"},
        "manager": {"note", "ship", "cancel", "print"},
    },
    "shipped": {"clerk": {"note", "deliver"}, "manager": {"note", "deliver"}},
    "delivered": {
        "clerk": {"note", "complete", "request_return"},
        "manager": {"note", "complete", "request_return"},
    },
    "completed": {"clerk": {"note", "request_return"}, "manager": {"note", "request_return"}},
    "return_requested": {
        "clerk": {"note", "receive_return"},
        "manager": {"note", "receive_return", "reject_return"},
    },
    "returned": {"clerk": {"note"}, "manager": {"note", "refund"}},
    "refunded": {"clerk": {"note"}, "manager": {"note"}},  # everything came back already
    "cancelled": {"clerk": {"note"}, "manager": {"note"}},
}


async def order_for(client: httpx.AsyncClient, staff: Staff, sku: str, case: str) -> dict[str, Any]:
    method, steps = CASES[case]
    order = await place_order(client, sku, payment_method=method)
    for step in steps:
        if step == "print":
            r = await client.post(
                f"/api/v1/staff/orders/{order['number']}/print", headers=staff.manager
            )
        else:
            r = await staff_call(client, staff.manager, step, order)
        assert r.status_code in (200, 201), (case, step, r.text)
    return order


async def call(
    client: httpx.AsyncClient, headers: dict[str, str], action: str, order: dict[str, Any]
) -> httpx.Response:
    method, path, body = CALLS[action]
    if action == "confirm_payment":
        body = {"amount": order["total"], "reference": "BANK-1"}
    url = f"/api/v1/staff/orders/{order['number']}{path}"
    return await client.request(method, url, json=body, headers=headers)


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database, catalog: SmallCatalog) -> Staff:
    staff = await make_staff(client, db)
    r = await client.post(
        f"/api/v1/staff/stock/{catalog.sku_m}/receipts", json={"quantity": 500}, headers=staff.clerk
    )
    assert r.status_code in (200, 201), r.text
    return staff


@pytest.mark.parametrize("case", list(EXPECTED))
async def test_listed_actions_are_what_the_api_accepts(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff, case: str
) -> None:
    order = await order_for(client, staff, catalog.sku_m, case)
    url = f"/api/v1/staff/orders/{order['number']}"
    for role in ("clerk", "manager"):
        headers = staff.of(role)
        detail = (await client.get(url, headers=headers)).json()
        allowed = detail["allowed_actions"]
        refused = {r["action"]: r for r in detail["refused_actions"]}
        assert set(allowed) == EXPECTED[case][role], (case, role)
        # Every action is listed once, allowed or refused, each refusal with its reason.
        assert not set(allowed) & set(refused) and set(allowed) | set(refused) == set(CALLS)
        assert all(r["code"] in STATUS_OF_REFUSAL and r["reason"] for r in refused.values())

        # The list rows say the same as the detail.
        page = await client.get(f"/api/v1/staff/orders?q={order['number']}", headers=headers)
        (row,) = page.json()["items"]
        assert row["allowed_actions"] == allowed
        assert row["refused_actions"] == detail["refused_actions"]

        # A refusal changes nothing, so they are all tried on this one order.
        for action, refusal in refused.items():
            r = await call(client, headers, action, order)
            assert r.status_code == STATUS_OF_REFUSAL[refusal["code"]], (case, role, action)
            assert r.json()["error"]["code"] == refusal["code"], (case, role, action, r.text)
        after = (await client.get(url, headers=headers)).json()
        assert after["status"] == detail["status"] and after["events"] == detail["events"]

    # Each allowed action is accepted, on an order of its own (it changes the order), by the
    # lowest role it is allowed to.
    for action in sorted(EXPECTED[case]["manager"]):
        role = "clerk" if action in EXPECTED[case]["clerk"] else "manager"
        fresh = await order_for(client, staff, catalog.sku_m, case)
        r = await call(client, staff.of(role), action, fresh)
        assert r.status_code in (200, 201), (case, role, action, r.text)


async def test_a_refusal_says_why_in_the_words_of_the_api(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    paid = await order_for(client, staff, catalog.sku_m, "paid")
    detail = (
        await client.get(f"/api/v1/staff/orders/{paid['number']}", headers=staff.clerk)
    ).json()
    refused = {r["action"]: r for r in detail["refused_actions"]}
    assert refused["cancel"] == {
        "action": "cancel",
        "code": "forbidden",
        "reason": "cancelling a paid order needs the manager role",
    }
    assert refused["ship"]["code"] == "invalid_transition"
    assert "start picking first" in refused["ship"]["reason"]
    r = await call(client, staff.clerk, "ship", paid)
    assert r.json()["error"]["message"] == refused["ship"]["reason"]
    r = await call(client, staff.clerk, "cancel", paid)
    assert r.json()["error"]["message"] == refused["cancel"]["reason"]


async def test_an_unpaid_orders_refusals_name_the_step_that_comes_first(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff
) -> None:
    unpaid = await place_order(client, catalog.sku_m)
    detail = (
        await client.get(f"/api/v1/staff/orders/{unpaid['number']}", headers=staff.clerk)
    ).json()
    assert "confirm_payment" in detail["allowed_actions"]
    refused = {r["action"]: r["reason"] for r in detail["refused_actions"]}
    for action in ("ship", "start_picking"):
        assert (
            "the bank transfer has not arrived yet (record it with 'bank paid')"
            in (refused[action])
        ), refused[action]


async def test_the_schema_documents_the_refused_actions(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    components = schema["components"]["schemas"]
    for name in ("StaffOrderOut", "StaffOrderSummary"):
        props = components[name]["properties"]
        assert props["allowed_actions"]["type"] == "array"
        assert props["refused_actions"]["type"] == "array"
    refused = components["RefusedActionOut"]
    assert set(refused["required"]) == {"action", "code", "reason"}
