"""The staff TUI's actions end to end: each key, its dialog, the staff API behind it, and what
the screen shows after — on both database back ends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from textual.command import CommandPalette
from textual.widgets import Input, Select

from shopd.config import Settings
from shopd.db import Database, utcnow
from shopd.staff.models import StaffSession
from tests.conftest import SmallCatalog, missing_prerequisite
from tests.staffkit import Staff, make_staff, order_in, place_order
from tests.tuikit import (
    confirm,
    detail,
    fill_dialog,
    form_error,
    go_tab,
    log_in,
    message,
    open_order,
    press,
    rows,
    shown_keys,
    tui,
)
from tui import printing
from tui.app import LoginScreen, MainScreen
from tui.orders import OrderScreen
from tui.stock import StocktakeScreen


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def order_json(client: httpx.AsyncClient, staff: Staff, number: object) -> dict:  # type: ignore[type-arg]
    r = await client.get(f"/api/v1/staff/orders/{number}", headers=staff.clerk)
    return r.json()  # type: ignore[no-any-return]


async def test_confirm_a_bank_transfer_start_picking_and_add_a_note(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    order = await place_order(client, catalog.sku_m)
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await open_order(app, pilot, str(order["number"]))
        assert "unpaid" in detail(app)
        await press(app, pilot, "s")  # not allowed yet: dimmed, and the key says why
        assert "does not allow 'Ship' now" in message(app)

        await press(app, pilot, "b")
        await fill_dialog(app, pilot, {"amount": "89.0", "reference": "ICBC-7781"})
        assert "now paid" in message(app)
        assert "ICBC-7781" in detail(app)

        await press(app, pilot, "p")
        await confirm(app, pilot)
        assert "now picking" in message(app)

        await press(app, pilot, "n")
        await fill_dialog(app, pilot, {"body": "客户要求用礼盒包装"})
        assert "clerk.one: 客户要求用礼盒包装" in detail(app)
    o = await order_json(client, staff, order["number"])
    assert o["status"] == "picking" and o["payments"][0]["external_reference"] == "ICBC-7781"


async def test_a_wrong_amount_is_refused_with_the_servers_reason_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    order = await place_order(client, catalog.sku_m)
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await open_order(app, pilot, str(order["number"]))
        await press(app, pilot, "b")
        await fill_dialog(app, pilot, {"amount": "88.00", "reference": "X-1"})
        # The form stays open with what was typed and the shop's reason in it.
        assert form_error(app).startswith("refused:") and "amount_mismatch" in form_error(app)
        assert app.screen.query_one("#field-reference", Input).value == "X-1"
        await fill_dialog(app, pilot, {"amount": "eighty", "reference": "X-1"})
        assert "the amount is money" in form_error(app)
        await press(app, pilot, "escape")
        assert isinstance(app.screen, OrderScreen)
    assert (await order_json(client, staff, order["number"]))["status"] == "pending_payment"


async def test_record_and_receive_a_return_then_a_manager_refunds_it(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    order = await order_in(client, staff, catalog.sku_m, "delivered", quantity=2)
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await open_order(app, pilot, str(order["number"]))
        await press(app, pilot, "e")
        await fill_dialog(app, pilot, {"reason": "太小了", "items": f"{catalog.sku_m}=1"})
        assert "now return_requested" in message(app)
        await press(app, pilot, "v")
        await fill_dialog(app, pilot, {"default": "restock"})
        assert "now returned" in message(app)
        assert "f" not in shown_keys(app)  # a clerk is not offered the refund
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "manager.one")
        await open_order(app, pilot, str(order["number"]))
        assert "f" in shown_keys(app)
        await press(app, pilot, "f")
        await fill_dialog(app, pilot, {"reason": "return received", "amount": ""})
        assert "now refunded" in message(app)
        assert "refunds:" in detail(app) and "CNY 79.00" in detail(app)
    o = await order_json(client, staff, order["number"])
    assert o["refunded_total"] == 7900 and o["items"][0]["returned_quantity"] == 1


async def test_status_filters_from_the_drop_down_and_the_command_palette(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    paid = await order_in(client, staff, catalog.sku_m, "paid")
    cancelled = await order_in(client, staff, catalog.sku_m, "cancelled")
    shipped = await order_in(client, staff, catalog.sku_l, "shipped")
    app = tui(db, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(app, pilot, "clerk.one")
        table = await go_tab(app, pilot, "orders")
        assert len(rows(table)) == 3
        app.screen.query_one("#order-status", Select).value = "status:cancelled"
        await pilot.pause()
        assert rows(table) == [cancelled["number"]]
        assert "orders: cancelled" in message(app)

        await press(app, pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        app.screen.query_one(Input).value = "Orders: shipped"
        await pilot.pause(0.5)
        await press(app, pilot, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert rows(table) == [shipped["number"]]

        await press(app, pilot, "a")
        assert set(rows(table)) == {paid["number"], cancelled["number"], shipped["number"]}


async def test_a_stocktake_typed_reviewed_and_posted(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "stock")
        await press(app, pilot, "k")
        await confirm(app, pilot, opens_screen=True)
        await pilot.pause()
        assert isinstance(app.screen, StocktakeScreen)
        assert "ctrl+o" not in shown_keys(app)  # a clerk counts; a manager posts
        for sku, counted in ((catalog.sku_m, "8"), (catalog.sku_pot, "3")):
            app.screen.query_one("#count-sku", Input).value = sku
            app.screen.query_one("#count-qty", Input).value = counted
            app.screen.query_one("#count-qty", Input).focus()
            await press(app, pilot, "enter")
        assert "2 SKUs counted, 1 differ from the books" in message(app)
        await press(app, pilot, "escape")  # leave it open for the manager
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "manager.one")
        table = await go_tab(app, pilot, "stock")
        await press(app, pilot, "k")  # resumes the open stocktake
        assert isinstance(app.screen, StocktakeScreen)
        assert "2 SKUs counted" in message(app)
        await press(app, pilot, "ctrl+o")
        await confirm(app, pilot)
        assert isinstance(app.screen, MainScreen)
        assert table.get_row(catalog.sku_m)[2] == "8"
    r = await client.get(f"/api/v1/staff/stock/{catalog.sku_m}/ledger", headers=staff.clerk)
    assert r.json()["on_hand"] == 8 and r.json()["items"][0]["reason"] == "stocktake"


async def test_adjustments_are_for_managers(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "stock")
        assert {"r", "l", "k"} <= shown_keys(app) and not {"j", "h"} & shown_keys(app)
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "manager.one")
        table = await go_tab(app, pilot, "stock")
        table.move_cursor(row=rows(table).index(catalog.sku_l))
        await press(app, pilot, "j")
        await fill_dialog(app, pilot, {"delta": "-2", "reason": "damage", "note": "水渍"})
        assert f"{catalog.sku_l}: on hand now 3" in message(app)
        await press(app, pilot, "j")
        await fill_dialog(app, pilot, {"delta": "-2", "reason": "stolen?", "note": ""})
        assert form_error(app).startswith("refused:")
        await press(app, pilot, "escape")
    r = await client.get(f"/api/v1/staff/stock/{catalog.sku_l}/ledger", headers=staff.clerk)
    assert r.json()["on_hand"] == 3


async def test_products_sales_delist_and_price(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    await place_order(client, catalog.sku_pot, 2)
    app = tui(db, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "products")
        assert not {"u", "m"} & shown_keys(app)
    app = tui(db, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(app, pilot, "manager.one")
        table = await go_tab(app, pilot, "products")
        search = app.screen.query_one("#product-search", Input)
        search.value = "紫砂"
        search.focus()
        await press(app, pilot, "enter")
        assert rows(table) == [catalog.teapot]
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = str(app.screen.query_one("#product-detail").render())
        assert "last 30 days: 2 sold, CNY 1,176.00 in 1 order" in text

        await press(app, pilot, "u")
        await confirm(app, pilot)
        assert "delisted" in message(app)
        await press(app, pilot, "m")
        await fill_dialog(app, pilot, {"price": "99.50", "sku": ""})
        assert "list price now CNY 99.50" in message(app)
    r = await client.get(f"/api/v1/staff/products/{catalog.teapot}", headers=staff.clerk)
    assert (r.json()["listed"], r.json()["list_price"]) == (False, 9950)


async def test_print_packing_slips_and_a_picking_list(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    catalog: SmallCatalog,
    staff: Staff,
    tmp_path: Path,
) -> None:
    one = await order_in(client, staff, catalog.sku_m, "picking", quantity=2)
    two = await order_in(client, staff, catalog.sku_m, "paid")
    app = tui(db, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(app, pilot, "clerk.one")
        table = await go_tab(app, pilot, "orders")
        for number in (one["number"], two["number"]):
            table.move_cursor(row=rows(table).index(number))
            await press(app, pilot, "x")
        assert "2 orders marked" in message(app)
        await press(app, pilot, "w")
        await fill_dialog(app, pilot, {"format": "txt", "folder": str(tmp_path / "slips")})
        assert "wrote" in message(app)
        (slips,) = (tmp_path / "slips").glob("packing-*.txt")
        pages = slips.read_text(encoding="utf-8").split("\f")
        assert len(pages) == 3  # the picking list, then a slip per order
        picking_line = next(ln for ln in pages[0].splitlines() if catalog.sku_m in ln)
        assert picking_line.split()[0] == "3" and str(one["number"]) in picking_line
        assert "PACKING SLIP" in pages[1] and "王小明" in pages[1] and "浙江省" in pages[1]

        table.move_cursor(row=rows(table).index(one["number"]))
        await press(app, pilot, "w")
        await fill_dialog(app, pilot, {"format": "pdf", "folder": str(tmp_path / "pdf")})
        pdfs = list((tmp_path / "pdf").glob("packing-*.pdf"))
        if not pdfs and "no installed font" in message(app):
            missing_prerequisite("a CJK font for PDF slips (apt-get install fonts-noto-cjk)")
        assert len(pdfs) == 1, message(app)
        assert pdfs[0].read_bytes().startswith(b"%PDF")
    # Printed slips freeze the address.
    r = await client.patch(
        f"/api/v1/staff/orders/{one['number']}/contact",
        json={"phone": "+86 139 0000 0000"},
        headers=staff.clerk,
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "order_locked"


def test_the_picking_list_adds_up_skus_and_keeps_cjk_columns_straight() -> None:
    tz = printing.ZoneInfo("Asia/Shanghai")
    line = {"sku": "POT-1", "name": "宜兴紫砂壶", "attributes": {}, "quantity": 2}
    other = {"sku": "TEE-M", "name": "T恤", "attributes": {"size": "M"}, "quantity": 1}
    orders = [{"number": "A", "items": [line, other]}, {"number": "B", "items": [line]}]
    out = printing.picking_list(orders, tz, dt.datetime(2026, 11, 22, 2, tzinfo=dt.UTC))
    assert out[0].startswith("PICKING LIST  2026-11-22 10:00  2 orders")
    pot = next(ln for ln in out if "POT-1" in ln)
    tee = next(ln for ln in out if "TEE-M" in ln)
    assert pot.split()[0] == "4" and pot.endswith("A, B") and tee.endswith("A")
    # Wide characters count double: the orders column starts in the same cell on each line.
    assert printing.cell_len(pot[: pot.index("A, B")]) == printing.cell_len(tee[: tee.index("A")])
    assert out[-1] == "5 units of 2 SKUs"


async def test_an_expired_session_goes_back_to_log_in(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        assert isinstance(app.screen, MainScreen)
        async with db.write() as s:
            await s.execute(
                update(StaffSession).values(expires_at=utcnow() - dt.timedelta(minutes=1))
            )
            await s.commit()
        await press(app, pilot, "ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert "session has expired" in str(app.screen.query_one("#login-error").render())
        await log_in(app, pilot, "clerk.one")
        assert isinstance(app.screen, MainScreen)
