"""The staff TUI's daily tasks beside the tabs — customers, refunds, the audit log, exports —
driven by Textual's pilot against a real shopd app served in-process, on both back ends."""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, Sparkline, Static

from shopd.config import Settings
from shopd.customers.models import Customer
from shopd.db import Database
from tests.conftest import ADDRESS, SmallCatalog, checkout_body
from tests.staffkit import Staff, make_staff, order_in, place_order
from tests.tuikit import confirm, fill_dialog, log_in, message, press, rows, shown_keys, tui
from tui.app import MainScreen
from tui.audit import AuditScreen
from tui.customers import CustomersScreen
from tui.dialogs import ConfirmDialog, FormDialog
from tui.refunds import RefundsScreen


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def settled(app: object, pilot: object) -> None:
    await app.workers.wait_for_complete()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def search(app: object, pilot: object, field: str, text: str) -> None:
    box = app.screen.query_one(f"#{field}", Input)  # type: ignore[attr-defined]
    box.value = text
    box.focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settled(app, pilot)


async def registered_customer(
    client: httpx.AsyncClient, db: Database, staff: Staff, sku: str
) -> tuple[int, str]:
    """A customer with an account, a saved address, a paid order and points; and the order."""
    client.cookies.clear()
    r = await client.post(
        "/api/v1/customers",
        json={"email": "li.si@example.com", "password": "a-long-password-1", "name": "李四"},
    )
    assert r.status_code == 201, r.text
    address = {**ADDRESS, "recipient": "李四", "phone": "+86 139 1111 2222", "line1": "文一路 8 号"}
    r = await client.post("/api/v1/me/addresses", json=address)
    assert r.status_code == 201, r.text
    r = await client.patch("/api/v1/me", json={"phone": "+86 137 5555 6666"})
    assert r.status_code == 200, r.text
    r = await client.put(
        "/api/v1/staff/membership/levels",
        json={"levels": [{"name": "silver", "min_spend": 5000, "discount_percent": 5}]},
        headers=staff.manager,
    )
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1})
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/orders", json=checkout_body(email=None))
    assert r.status_code == 201, r.text
    order = r.json()
    r = await client.post(
        f"/api/v1/staff/orders/{order['number']}/payments",
        json={"amount": order["total"], "reference": "T"},
        headers=staff.clerk,
    )
    assert r.status_code == 200, r.text
    client.cookies.clear()
    async with db.read() as s:
        customer_id = await s.scalar(
            select(Customer.id).where(Customer.email == "li.si@example.com")
        )
    assert customer_id
    return int(customer_id), str(order["number"])


async def test_look_a_customer_up_by_phone_and_by_order_number_and_add_a_note(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    customer_id, number = await registered_customer(client, db, staff, catalog.sku_m)
    guest = await order_in(client, staff, catalog.sku_m, "paid")
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await press(app, pilot, "5")
        assert isinstance(app.screen, CustomersScreen)
        assert app.screen.query_one("#customer-search", Input).has_focus

        await search(app, pilot, "customer-search", "nobody@nowhere")
        assert "no customer matches" in message(app)
        await search(app, pilot, "customer-search", "li.si@")
        table = app.screen.query_one("#customer-table", DataTable)
        assert rows(table) == [str(customer_id)]
        await search(app, pilot, "customer-search", "55556666")  # the account's phone
        assert rows(table) == [str(customer_id)]
        text = str(app.screen.query_one("#customer-detail", Static).render())
        assert "李四" in text and "li.si@example.com" in text
        assert f"{number}" in text and "paid" in text and "CNY 89.00" in text
        assert "member: silver (5% off)" in text and "89 points" in text
        assert "* 李四  +86 139 1111 2222  浙江省 杭州市 文一路 8 号" in text

        # By an order's number: the customer who placed it.
        await press(app, pilot, "slash")
        await search(app, pilot, "customer-search", number.lower())
        assert rows(table) == [str(customer_id)]
        assert f"placed order {number}" in message(app)
        # A guest's order has no account, and the screen says whose it was.
        await search(app, pilot, "customer-search", str(guest["number"]))
        assert rows(table) == []
        assert "placed as a guest (guest@example.com" in str(
            app.screen.query_one("#customer-detail", Static).render()
        )

        await search(app, pilot, "customer-search", "李四")
        await press(app, pilot, "n")
        assert isinstance(app.screen, FormDialog)
        await fill_dialog(app, pilot, {"body": "prefers SF Express"})
        await settled(app, pilot)
        assert "clerk.one: prefers SF Express" in str(
            app.screen.query_one("#customer-detail", Static).render()
        )
        await press(app, pilot, "escape")
        assert isinstance(app.screen, MainScreen)
    r = await client.get(f"/api/v1/staff/customers/{customer_id}", headers=staff.clerk)
    assert [n["body"] for n in r.json()["notes"]] == ["prefers SF Express"]


async def test_the_refunds_owed_and_a_manager_settles_one_seeing_the_amount(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    older = await order_in(client, staff, catalog.sku_m, "paid")
    newer = await order_in(client, staff, catalog.sku_l, "paid", quantity=2)
    for order in (older, newer):
        r = await client.post(
            f"/api/v1/staff/orders/{order['number']}/cancel",
            json={"reason": "out of the colour"},
            headers=staff.manager,
        )
        assert r.status_code == 200, r.text
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await press(app, pilot, "6")
        assert isinstance(app.screen, RefundsScreen)
        await settled(app, pilot)
        table = app.screen.query_one("#refund-table", DataTable)
        assert [table.get_row(k)[1] for k in rows(table)] == [older["number"], newer["number"]]
        assert "2 refunds owed, CNY 257.00 in all" in message(app)
        assert "s" not in shown_keys(app)  # a clerk sees what is owed; `s` says why not
        await press(app, pilot, "s")
        assert not isinstance(app.screen, ConfirmDialog)
        assert "refused: settling needs the manager role (forbidden)" in message(app)
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "manager.one")
        await press(app, pilot, "6")
        await settled(app, pilot)
        table = app.screen.query_one("#refund-table", DataTable)
        table.move_cursor(row=1)
        await press(app, pilot, "s")
        assert isinstance(app.screen, ConfirmDialog)
        question = str(app.screen.query_one(Static).render())
        assert f"of order {newer['number']}: CNY 168.00 paid back by bank transfer" in question
        await press(app, pilot, "n")  # no: nothing happens
        await settled(app, pilot)
        assert len(rows(app.screen.query_one("#refund-table", DataTable))) == 2
        await press(app, pilot, "s")
        await confirm(app, pilot)
        assert f"settled: CNY 168.00 to {newer['number']}" in message(app)
        assert [table.get_row(k)[1] for k in rows(table)] == [older["number"]]
        await press(app, pilot, "c")  # the settled ones
        await settled(app, pilot)
        assert [table.get_row(k)[1] for k in rows(table)] == [newer["number"]]
        assert "s" not in shown_keys(app)
    r = await client.get(f"/api/v1/staff/orders/{newer['number']}", headers=staff.clerk)
    assert r.json()["refunded_total"] == 16800
    assert [x["status"] for x in r.json()["refunds"]] == ["completed"]


async def test_today_agrees_with_the_fortnight_and_keys_list_late_and_overdue(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    import asyncio
    import datetime as dt
    from zoneinfo import ZoneInfo

    from sqlalchemy import update

    from shopd.db import utcnow
    from shopd.orders.models import Order

    # Today is the shop's day: wait out its midnight rather than straddle it.
    local = dt.datetime.now(ZoneInfo(settings.timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    if midnight - local < dt.timedelta(seconds=30):
        await asyncio.sleep((midnight - local).total_seconds() + 0.5)
    await place_order(client, catalog.sku_m)  # an order, not a sale: unpaid
    late = await order_in(client, staff, catalog.sku_m, "paid")
    overdue = await order_in(client, staff, catalog.sku_l, "picking")
    refunded = await order_in(client, staff, catalog.sku_m, "refunded")  # paid, then refunded
    async with db.write() as s:
        for order, hours in ((late, 30), (overdue, 50)):
            await s.execute(
                update(Order)
                .where(Order.number == order["number"])
                .values(ready_at=utcnow() - dt.timedelta(hours=hours))
            )
        await s.commit()
    kpis = (await client.get("/api/v1/staff/reports/kpis?days=14", headers=staff.clerk)).json()
    board = (await client.get("/api/v1/staff/orders/dashboard", headers=staff.clerk)).json()
    assert kpis["days"][-1]["sales"] == 3 * 8900 == board["today_sales"]
    assert kpis["days"][-1]["orders"] == 4 == board["today_orders"]
    assert board["month_sales"] == kpis["month_sales"]
    assert refunded["refunded_total"] == 7900

    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await press(app, pilot, "1")
        await settled(app, pilot)
        text = str(app.screen.query_one("#dashboard", Static).render())
        assert "today: 4 orders, CNY 267.00" in text
        sales = app.screen.query_one("#sales-trend", Sparkline).data
        assert sales is not None and sales[-1] == 3 * 8900
        assert {"t", "l", "o"} <= shown_keys(app)
        await press(app, pilot, "l")
        await settled(app, pilot)
        table = app.screen.query_one("#order-table", DataTable)
        assert table.has_focus and rows(table) == [late["number"]]
        assert "orders: late >24 h" in message(app)
        await press(app, pilot, "1")
        await press(app, pilot, "o")
        await settled(app, pilot)
        assert rows(table) == [overdue["number"]]
        await press(app, pilot, "1")
        await press(app, pilot, "t")
        await settled(app, pilot)
        assert set(rows(table)) == {late["number"], overdue["number"]}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


async def test_export_orders_and_stock_to_csv_for_the_accountant(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    catalog: SmallCatalog,
    staff: Staff,
    tmp_path: Path,
) -> None:
    import datetime as dt

    from sqlalchemy import update

    from shopd.db import utcnow
    from shopd.orders.models import Order

    paid = await order_in(client, staff, catalog.sku_m, "paid")
    refunded = await order_in(client, staff, catalog.sku_m, "refunded", quantity=2)
    old = await order_in(client, staff, catalog.sku_l, "paid")
    async with db.write() as s:
        await s.execute(
            update(Order)
            .where(Order.number == old["number"])
            .values(created_at=utcnow() - dt.timedelta(days=40))
        )
        await s.commit()
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await press(app, pilot, "8")
        assert isinstance(app.screen, FormDialog)
        today = dt.datetime.now(client_timezone(settings)).date()
        default = app.screen.query_one("#field-path", Input).value
        assert default == f"~/shopd-orders-{today:%Y%m%d}.csv"  # in the home directory
        first = (today - dt.timedelta(days=3)).isoformat()
        orders_csv = tmp_path / "orders.csv"
        await fill_dialog(
            app, pilot, {"first": first, "last": today.isoformat(), "path": str(orders_csv)}
        )
        assert f"wrote 2 orders ({first} to {today}, net 99.00) to {orders_csv}" in message(app)
        got = read_csv(orders_csv)
        assert [r["number"] for r in got] == [paid["number"], refunded["number"]]
        assert (got[1]["total"], got[1]["refunded"], got[1]["net"]) == ("168.00", "158.00", "10.00")
        assert got[0]["status"] == "paid" and got[0]["recipient"] == "王小明"

        # The file exists: replaced only when the user says so.
        await press(app, pilot, "8")
        app.screen.query_one("#field-first", Input).value = "2000-01-01"
        app.screen.query_one("#field-path", Input).value = str(orders_csv)
        await pilot.click("#ok")  # the export goes on to ask: no waiting for it to finish
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and "Replace it?" in str(
            app.screen.query_one(Static).render()
        )
        await press(app, pilot, "n")
        await settled(app, pilot)
        assert len(read_csv(orders_csv)) == 2
        await press(app, pilot, "8")
        await fill_dialog(app, pilot, {"first": "1 Nov", "path": str(tmp_path / "x.csv")})
        assert "not exported: '1 Nov' is not a day like 2026-11-01" in message(app)
        await press(app, pilot, "8")
        await fill_dialog(app, pilot, {"path": str(tmp_path / "no" / "x.csv")})
        assert f"not exported: there is no folder {tmp_path / 'no'}" in message(app)

        await press(app, pilot, "9")
        await fill_dialog(app, pilot, {"path": str(tmp_path / "stock.csv")})
        stock = {r["sku"]: r for r in read_csv(tmp_path / "stock.csv")}
        r = await client.get("/api/v1/staff/stock", headers=staff.clerk)
        assert set(stock) == {s["sku"] for s in r.json()["items"]}
        pot = next(s for s in r.json()["items"] if s["sku"] == catalog.sku_pot)
        assert stock[catalog.sku_pot]["available"] == str(pot["available"])
        assert stock[catalog.sku_pot]["product"] == pot["product"]
        assert f"wrote {len(stock)} SKUs" in message(app)


def client_timezone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


async def test_the_audit_log_filtered_by_who_and_what(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    shipped = await order_in(client, staff, catalog.sku_m, "shipped")  # by the manager
    r = await client.post(
        f"/api/v1/staff/stock/{catalog.sku_pot}/receipts",
        json={"quantity": 4, "reference": "PO-9"},
        headers=staff.clerk,
    )
    assert r.status_code == 201
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await press(app, pilot, "7")
        await settled(app, pilot)
        assert isinstance(app.screen, AuditScreen)
        assert "audit log: this needs the manager role (forbidden)" in message(app)
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "manager.one")
        await press(app, pilot, "7")
        await settled(app, pilot)
        table = app.screen.query_one("#audit-table", DataTable)
        everything = len(rows(table))
        await press(app, pilot, "slash")
        assert app.screen.query_one("#audit-who", Input).has_focus
        await search(app, pilot, "audit-who", "clerk.one")
        assert [table.get_row(k)[1:3] for k in rows(table)] == [["clerk.one", "stock.receive"]]
        assert 'after:  {"on_hand": 7, "reference": "PO-9"}' in str(
            app.screen.query_one("#audit-detail", Static).render()
        )
        assert "who clerk.one · 1 entries" in message(app)
        app.screen.query_one("#audit-who", Input).value = ""
        await search(app, pilot, "audit-action", "order.shipped")
        assert [table.get_row(k)[3] for k in rows(table)] == [shipped["number"]]
        app.screen.query_one("#audit-action", Input).value = ""
        await search(app, pilot, "audit-target", str(shipped["number"]))
        assert 3 <= len(rows(table)) < everything
        assert all(table.get_row(k)[1] == "manager.one" for k in rows(table))
