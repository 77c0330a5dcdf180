"""Keys typed with no pause — by a barcode scanner, or batched by SSH — land where a person
typing slowly would put them: in the field that Tab, `/` or a just-opened dialog focuses,
never in the field before it, and never as commands on the table behind."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from textual.widgets import DataTable, Input

from shopd.config import Settings
from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import PASSWORD, Staff, make_staff, order_in, place_order
from tests.tuikit import go_tab, log_in, open_order, rows, tui, type_fast
from tui.app import MainScreen, StaffApp
from tui.dialogs import ConfirmDialog, FormDialog


async def finished(app: StaffApp) -> None:
    """The actions started are done (a dialog left open by a misrouted key fails, not hangs)."""
    await asyncio.wait_for(app.workers.wait_for_complete(), 15)


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def test_name_tab_password_enter_typed_at_once_logs_in(
    db: Database, settings: Settings, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await type_fast(app, pilot, "clerk.one", "tab", PASSWORD, "enter")
        for _ in range(100):
            if isinstance(app.screen, MainScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, MainScreen), app.screen.query_one("#username", Input).value


async def test_a_goods_receipt_typed_at_once_keeps_quantity_and_reference_apart(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        table = await go_tab(app, pilot, "stock")
        table.move_cursor(row=rows(table).index(catalog.sku_pot))
        await pilot.pause()
        await type_fast(app, pilot, "r", "13", "tab", "REF3", "enter")
        # Typed ahead of the dialog, Enter is no answer yet: the fields hold what was typed.
        assert isinstance(app.screen, FormDialog)
        assert app.screen.query_one("#field-quantity", Input).value == "13"
        assert app.screen.query_one("#field-reference", Input).value == "REF3"
        await pilot.press("enter")
        await finished(app)
        assert not isinstance(app.screen, FormDialog)
    r = await client.get(f"/api/v1/staff/stock/{catalog.sku_pot}/ledger", headers=staff.clerk)
    latest = r.json()["items"][0]
    assert (latest["delta"], latest["reference"]) == (13, "REF3")


async def test_a_return_typed_at_once_returns_only_the_lines_typed(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    order = await order_in(client, staff, catalog.sku_m, "delivered", quantity=3)
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await open_order(app, pilot, str(order["number"]))
        await type_fast(app, pilot, "e", "chipped", "tab", f"{catalog.sku_m}=1")
        await type_fast(app, pilot, "enter")  # the dialog is on screen now
        await finished(app)
    r = await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
    (ret,) = r.json()["returns"]
    assert ret["reason"] == "chipped"
    assert [(ln["sku"], ln["quantity"]) for ln in ret["lines"]] == [(catalog.sku_m, 1)]


async def test_a_return_with_no_items_asks_before_taking_everything_back(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    order = await order_in(client, staff, catalog.sku_m, "delivered", quantity=3)
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await open_order(app, pilot, str(order["number"]))
        await type_fast(app, pilot, "e", "wrong size")
        await type_fast(app, pilot, "enter", "enter")  # to the items field, and send it
        assert isinstance(app.screen, ConfirmDialog), app.screen
        question = app.screen.question
        assert f"3 × {catalog.sku_m}" in question
        await type_fast(app, pilot, "n")
        # Back in the form, which says nothing was sent.
        assert isinstance(app.screen, FormDialog)
        assert "not sent" in str(app.screen.query_one("#form-error").render())
        await type_fast(app, pilot, "escape")
        await finished(app)
    r = await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
    assert r.json()["returns"] == [] and r.json()["status"] == "delivered"


async def test_slash_then_a_name_typed_at_once_searches_and_runs_no_command(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    order = await order_in(client, staff, catalog.sku_m, "paid")
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "orders")
        # c, n, e, s, b, p, d... are order commands on the table: after `/` they are text.
        await type_fast(app, pilot, "slash", "guest cancel notes", "enter")
        await finished(app)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen), app.screen
        assert app.screen.query_one("#order-search", Input).value == "guest cancel notes"
        assert app.screen.query_one("#order-table", DataTable).has_focus, app.focused
    r = await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
    assert r.json()["status"] == "paid" and r.json()["notes"] == []


async def test_a_name_typed_on_the_table_changes_no_order(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    """`c` is Cancel and `n` Note on an order; "carol" and Enter typed at once on the table
    open the cancel form with the rest of the name in it, and the Enter typed before the
    form was shown does not send it."""
    order = await place_order(client, catalog.sku_m)  # unpaid: a clerk may cancel it
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "orders")
        await type_fast(app, pilot, "carol", "enter")
        assert isinstance(app.screen, FormDialog)
        assert app.screen.query_one("#field-reason", Input).value == "arol"
        assert "typed before this opened" in str(app.screen.query_one(".hint").render())
        await type_fast(app, pilot, "escape")
        assert isinstance(app.screen, MainScreen)
    r = await client.get(f"/api/v1/staff/orders/{order['number']}", headers=staff.clerk)
    assert r.json()["status"] == "pending_payment" and r.json()["notes"] == []


async def test_a_letter_no_key_takes_starts_the_search_with_it(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    await order_in(client, staff, catalog.sku_m, "paid")
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "orders")
        await type_fast(app, pilot, "zhang")
        search = app.screen.query_one("#order-search", Input)
        assert search.has_focus and search.value == "zhang"


async def test_q_asks_before_quitting(db: Database, settings: Settings, staff: Staff) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "orders")
        await type_fast(app, pilot, "q")
        assert isinstance(app.screen, ConfirmDialog)
        assert "ends the session" in app.screen.question
        await type_fast(app, pilot, "n")
        assert isinstance(app.screen, MainScreen) and app.is_running
        await type_fast(app, pilot, "q")
        await type_fast(app, pilot, "y")
        assert app._exit, "a yes quits"
