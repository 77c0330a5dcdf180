"""What the staff sees, compared screen by screen (pytest-textual-snapshot) at 80×24 and
120×35: the dashboard, the orders, an order in full, the stock, and the task screens
(customers, refunds, the audit log).

The screens are drawn from recorded staff-API answers (tests/data/tui_api.json), so dates and
order numbers hold still between runs; a test below checks those recordings still have the
shape the real API answers with. After an intended change of the screens, look at the new
pictures and accept them with ``./run test tests/test_tui_snapshots.py --snapshot-update``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from textual.pilot import Pilot

from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import make_staff, order_in
from tests.tuikit import log_in
from tui.app import StaffApp

RECORDED: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "tui_api.json").read_text(encoding="utf-8")
)
PAGING = {"page", "per_page"}


def recorded_key(request: httpx.Request) -> str:
    params = sorted((k, v) for k, v in request.url.params.multi_items() if k not in PAGING)
    return f"{request.method} {request.url.path}" + (f"?{urlencode(params)}" if params else "")


def replay(request: httpx.Request) -> httpx.Response:
    key = recorded_key(request)
    if request.method == "DELETE":
        return httpx.Response(204)
    if key not in RECORDED:
        error = {"code": "not_found", "message": f"not recorded: {key}"}
        return httpx.Response(404, json={"error": error})
    return httpx.Response(201 if request.method == "POST" else 200, json=RECORDED[key])


def recorded_app() -> StaffApp:
    return StaffApp("http://shop.test", transport=httpx.MockTransport(replay))


async def logged_in(pilot: Pilot[None]) -> None:
    await log_in(pilot.app, pilot, "manager.one")  # type: ignore[arg-type]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def on_tab(tab: str, *keys: str) -> Any:
    async def run_before(pilot: Pilot[None]) -> None:
        await logged_in(pilot)
        pilot.app.screen.query_one("#tabs").active = tab  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 35), id="120x35")]
SCREENS = {
    "dashboard": on_tab("today"),
    "orders": on_tab("orders"),
    # The oldest order, late, with a note: Enter opens it.
    "order_detail": on_tab("orders", "down", "down", "down", "enter"),
    "stock": on_tab("stock"),
    # The task screens beside the tabs: a customer looked up, the refunds owed, the audit log.
    "customers": on_tab("orders", "5", "l", "i", "enter"),
    "refunds": on_tab("orders", "6", "down"),
    "audit": on_tab("orders", "7"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare: Any, screen: str, size: tuple[int, int]) -> None:
    assert snap_compare(recorded_app(), terminal_size=size, run_before=SCREENS[screen])


def shape(value: Any) -> Any:
    """Keys all the way down (a list by its first item), the values left out."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def same_shape(recorded: Any, real: Any, where: str) -> None:
    if isinstance(recorded, dict) and isinstance(real, dict):
        assert recorded.keys() == real.keys(), where
        for k in recorded:
            same_shape(recorded[k], real[k], f"{where}.{k}")
    elif isinstance(recorded, list) and isinstance(real, list) and recorded and real:
        same_shape(recorded[0], real[0], f"{where}[0]")


async def test_the_recordings_have_the_real_apis_shape(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    staff = await make_staff(client, db)
    order = await order_in(client, staff, catalog.sku_m, "picking")
    await client.post(
        f"/api/v1/staff/orders/{order['number']}/notes", json={"body": "n"}, headers=staff.clerk
    )
    r = await client.post(
        "/api/v1/customers",
        json={"email": "li.si@example.com", "password": "a-long-password-1", "name": "李四"},
    )
    assert r.status_code == 201, r.text
    client.cookies.clear()
    cancelled = await order_in(client, staff, catalog.sku_l, "paid")
    await client.post(
        f"/api/v1/staff/orders/{cancelled['number']}/cancel",
        json={"reason": "r"},
        headers=staff.manager,
    )
    customers = (await client.get("/api/v1/staff/customers?q=li", headers=staff.manager)).json()
    cid = customers["items"][0]["id"]
    same_shape(RECORDED["GET /api/v1/staff/customers?q=li"], customers, "customers")
    for recorded_path, real_path in (
        ("/customers/7", f"/customers/{cid}"),
        ("/customers/7/membership", f"/customers/{cid}/membership"),
        ("/orders/refunds?status=pending", "/orders/refunds?status=pending"),
        ("/audit", "/audit"),
    ):
        real = (await client.get(f"/api/v1/staff{real_path}", headers=staff.manager)).json()
        key = f"GET /api/v1/staff{recorded_path}"
        recorded = RECORDED[key]
        if recorded_path == "/audit":  # before and after are what each action records
            recorded, real = (
                {**page, "items": [{**e, "before": None, "after": None} for e in page["items"]]}
                for page in (recorded, real)
            )
        same_shape(recorded, real, key)
    recorded_order = next(v for k, v in RECORDED.items() if "/orders/20" in k)
    real_paths = {
        "GET /api/v1/staff/orders": "/api/v1/staff/orders",
        "GET /api/v1/staff/orders/dashboard": "/api/v1/staff/orders/dashboard",
        "GET /api/v1/staff/stock": "/api/v1/staff/stock",
        "GET /api/v1/staff/reports/kpis?days=14": "/api/v1/staff/reports/kpis?days=14",
        "GET /api/v1/staff/products": "/api/v1/staff/products",
        "GET /api/v1/staff/stock/TEE-M/ledger": "/api/v1/staff/stock/TEE-M/ledger",
        "GET /api/v1/staff/products/cotton-tee/sales?days=30": (
            "/api/v1/staff/products/cotton-tee/sales?days=30"
        ),
    }
    for key, path in real_paths.items():
        real = (await client.get(path, headers=staff.manager)).json()
        same_shape(RECORDED[key], real, key)
    real_order = (
        await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.manager)
    ).json()
    same_shape(recorded_order, real_order, "order")
    session = await client.post(
        "/api/v1/staff/session", json={"username": "manager.one", "password": "staff-password-1"}
    )
    same_shape(RECORDED["POST /api/v1/staff/session"], session.json(), "session")
    assert shape(RECORDED["GET /api/v1/staff/orders"]) == shape(
        (await client.get("/api/v1/staff/orders", headers=staff.manager)).json()
    )


async def test_at_80x24_what_a_clerk_needs_is_not_cut() -> None:
    """The orders' totals and late/overdue flags are on screen, the way to every key (`?`)
    comes first in the footer, and a long message wraps instead of being cut."""
    from textual.widgets import DataTable, Static
    from textual.widgets._footer import FooterKey

    from tui.common import say

    app = recorded_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot)
        table = app.screen.query_one("#order-table", DataTable)
        labels = [str(c.label) for c in table.ordered_columns]
        widths = [c.get_render_width(table) for c in table.ordered_columns]
        for shown in ("total", "flag"):
            assert sum(widths[: labels.index(shown) + 1]) <= table.size.width, shown
        assert "late" in [str(table.get_row_at(i)[labels.index("flag")]) for i in range(4)]
        first = app.screen.query(FooterKey).first()
        assert first.key_display == "?" and first.region.right <= 80
        long = "refused: " + "an order that is shipped cannot become cancelled " * 3
        say(app.screen.query_one("#orders-pane"), long.strip(), error=True)
        await pilot.pause()
        line = app.screen.query_one("#message", Static)
        assert line.size.height >= 2, "the message wraps"
        assert line.content_size.width * line.size.height >= len(long.strip())
